//! The template environment: templates compiled into the binary, auto-escaping on.

use crate::WebError;
use minijinja::{Environment, Value};

#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn new() -> Result<Self, WebError> {
        let mut env = Environment::new();
        env.add_template("base.html", include_str!("../templates/base.html"))?;
        env.add_template("index.html", include_str!("../templates/index.html"))?;
        env.add_filter("excerpt", excerpt);
        Ok(Self { env })
    }

    pub fn render(&self, name: &str, ctx: Value) -> Result<String, WebError> {
        Ok(self.env.get_template(name)?.render(ctx)?)
    }
}

/// The first `chars` characters of `text`, cut at a word boundary, with an ellipsis.
pub fn excerpt(text: &str, chars: Option<usize>) -> String {
    let chars = chars.unwrap_or(280);
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= chars {
        return flat;
    }
    let cut: String = flat.chars().take(chars).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end_matches([',', '.', ';', ':']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_cut_at_words() {
        assert_eq!(excerpt("short  text", None), "short text");
        assert_eq!(excerpt("one two three four", Some(9)), "one two…");
    }
}
