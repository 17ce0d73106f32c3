//! Command-line parsing, by hand: a few subcommands with a few `--flag value` (or
//! `--flag=value`) options each. `onegrid` alone, or with only flags, means `serve`.

#[cfg(test)]
use std::path::Path;
use std::path::PathBuf;

pub const USAGE: &str = "\
usage:
  onegrid [serve] [--listen 127.0.0.1:3000] [--data .onegrid] [--static DIR]
  onegrid demo-city [--seed N]
  onegrid import grids FILE [--data .onegrid]   (FILE: GeoJSON FeatureCollection, - for stdin)
  onegrid sign-webhook --secret whsec_... --body '<json>' [--id msg_...]";

#[derive(Debug, PartialEq)]
pub enum Command {
    Serve(ServeArgs),
    DemoCity {
        seed: u64,
    },
    ImportGrids {
        file: PathBuf,
        data: PathBuf,
    },
    SignWebhook {
        secret: String,
        body: String,
        id: Option<String>,
    },
    Help,
}

#[derive(Debug, PartialEq)]
pub struct ServeArgs {
    pub listen: String,
    pub data: PathBuf,
    /// `None`: the workspace's `static/`.
    pub static_dir: Option<PathBuf>,
}

/// `--name value` pairs, in order.
fn flags(args: &[String], known: &[&str]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let Some(flag) = arg.strip_prefix("--") else {
            return Err(format!("unexpected argument {arg:?}"));
        };
        let (name, value) = match flag.split_once('=') {
            Some((name, value)) => (name, value.to_owned()),
            None => (
                flag,
                rest.next()
                    .ok_or(format!("--{flag} needs a value"))?
                    .clone(),
            ),
        };
        if !known.contains(&name) {
            return Err(format!("unknown option --{name}"));
        }
        out.push((name.to_owned(), value));
    }
    Ok(out)
}

fn last(flags: &[(String, String)], name: &str) -> Option<String> {
    flags
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

pub fn parse(args: &[String]) -> Result<Command, String> {
    if args.first().is_some_and(|a| a == "help") || args.iter().any(|a| a == "-h" || a == "--help")
    {
        return Ok(Command::Help);
    }
    let (command, rest) = match args.first() {
        Some(first) if !first.starts_with("--") => (first.as_str(), &args[1..]),
        _ => ("serve", args),
    };
    match command {
        "serve" => {
            let f = flags(rest, &["listen", "data", "static"])?;
            Ok(Command::Serve(ServeArgs {
                listen: last(&f, "listen").unwrap_or_else(|| "127.0.0.1:3000".into()),
                data: last(&f, "data").unwrap_or_else(|| ".onegrid".into()).into(),
                static_dir: last(&f, "static").map(PathBuf::from),
            }))
        }
        "demo-city" => {
            let f = flags(rest, &["seed"])?;
            let seed = match last(&f, "seed") {
                Some(s) => s
                    .parse()
                    .map_err(|_| format!("--seed must be a whole number, not {s:?}"))?,
                None => 1,
            };
            Ok(Command::DemoCity { seed })
        }
        "import" => {
            let (Some(what), Some(file)) = (rest.first(), rest.get(1)) else {
                return Err("usage: onegrid import grids FILE [--data DIR]".into());
            };
            if what != "grids" {
                return Err(format!("import knows only grids, not {what:?}"));
            }
            if file.starts_with("--") {
                return Err("import grids needs a FILE before its options".into());
            }
            let f = flags(&rest[2..], &["data"])?;
            Ok(Command::ImportGrids {
                file: file.into(),
                data: last(&f, "data").unwrap_or_else(|| ".onegrid".into()).into(),
            })
        }
        "sign-webhook" => {
            let f = flags(rest, &["secret", "body", "id"])?;
            Ok(Command::SignWebhook {
                secret: last(&f, "secret").ok_or("sign-webhook needs --secret")?,
                body: last(&f, "body").ok_or("sign-webhook needs --body")?,
                id: last(&f, "id"),
            })
        }
        other => Err(format!("unknown command {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Command, String> {
        parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn serve_is_the_default() {
        let want = ServeArgs {
            listen: "127.0.0.1:3000".into(),
            data: ".onegrid".into(),
            static_dir: None,
        };
        assert_eq!(p(&[]), Ok(Command::Serve(want)));
        let got = p(&[
            "--listen",
            "127.0.0.1:0",
            "--data=/tmp/x",
            "--static",
            "web",
        ])
        .unwrap();
        let want = ServeArgs {
            listen: "127.0.0.1:0".into(),
            data: "/tmp/x".into(),
            static_dir: Some("web".into()),
        };
        assert_eq!(got, Command::Serve(want));
        assert!(
            matches!(p(&["serve", "--data", "d"]), Ok(Command::Serve(a)) if a.data == Path::new("d"))
        );
    }

    #[test]
    fn tools_parse_and_mistakes_are_refused() {
        assert_eq!(p(&["demo-city"]), Ok(Command::DemoCity { seed: 1 }));
        assert_eq!(
            p(&["demo-city", "--seed", "7"]),
            Ok(Command::DemoCity { seed: 7 })
        );
        let sign = p(&["sign-webhook", "--secret", "whsec_x", "--body", "{\"a\":1}"]).unwrap();
        let want = Command::SignWebhook {
            secret: "whsec_x".into(),
            body: "{\"a\":1}".into(),
            id: None,
        };
        assert_eq!(sign, want);
        assert!(p(&["sign-webhook", "--body", "{}"]).is_err());
        assert!(p(&["demo-city", "--seed", "x"]).is_err());
        assert!(p(&["--listen"]).is_err());
        assert!(p(&["--port", "1"]).is_err());
        assert!(p(&["frobnicate"]).is_err());
        assert_eq!(
            p(&["import", "grids", "city.geojson"]),
            Ok(Command::ImportGrids {
                file: "city.geojson".into(),
                data: ".onegrid".into()
            })
        );
        assert_eq!(
            p(&["import", "grids", "-", "--data", "/tmp/d"]),
            Ok(Command::ImportGrids {
                file: "-".into(),
                data: "/tmp/d".into()
            })
        );
        assert!(p(&["import", "grids"]).is_err());
        assert!(p(&["import", "assets", "a.json"]).is_err());
        assert!(p(&["import", "grids", "--data", "d"]).is_err());
        assert_eq!(p(&["serve", "--help"]), Ok(Command::Help));
    }
}
