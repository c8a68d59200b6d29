//! Print one simulated blog's facts and newest posts, to eyeball the generated content:
//! `cargo run -p kith-testkit --example sample [blog] [seed]`.

use kith_testkit::{Blogosphere, BlogosphereConfig};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let blog: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(0);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(42);
    let sphere = Blogosphere::start(BlogosphereConfig {
        blogs: blog + 1,
        seed,
        ..BlogosphereConfig::default()
    })
    .await?;
    let info = sphere.info(blog);
    println!("{info:#?}");
    for post in sphere.posts(blog).iter().take(3) {
        println!(
            "\n# {} ({}) {:?}",
            post.title, post.published, post.categories
        );
        println!("{}", post.html);
    }
    sphere.shutdown().await;
    Ok(())
}
