//! `kith-sphere [--blogs N] [--posts MIN..=MAX] [--feed-limit N] [--first-ip IP] [--seed N]
//! [--communities N]`: serves a simulated blogosphere on loopback, prints its feeds and
//! takes commands on stdin (see `kith_testkit::control` for the protocol).

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match kith_testkit::control::config_from_args(std::env::args().skip(1)) {
        Ok(c) => c,
        Err(why) => {
            eprintln!("kith-sphere: {why}");
            return ExitCode::from(2);
        }
    };
    let input = tokio::io::BufReader::new(tokio::io::stdin());
    match kith_testkit::control::serve(config, input, tokio::io::stdout()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kith-sphere: {e}");
            ExitCode::FAILURE
        }
    }
}
