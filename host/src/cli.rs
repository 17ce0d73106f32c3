//! The command line, on clap: a few subcommands with a few `--flag value` (or `--flag=value`)
//! options each, and `--help` on every one. `onegrid` alone, or with only flags, means `serve`.
//! A flag given twice takes its last value.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "onegrid",
    about = "OneGrid without Spin: every route of spin.toml in one process, on SQLite",
    args_conflicts_with_subcommands = true,
    args_override_self = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Without a command: `serve`, with these options.
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, PartialEq, Subcommand)]
pub enum Command {
    /// Serve the citizen and staff pages and every API route (the default command).
    Serve(ServeArgs),
    /// Print the demo city's map as a GeoJSON FeatureCollection.
    DemoCity {
        /// The seed of the generated city: the same seed, the same map.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Import into a data directory.
    #[command(subcommand)]
    Import(Import),
    /// Replace a service token in the data directory's secrets.json: the new one is valid for
    /// `--days`, the old one for `--overlap-hours` more. Prints where it is kept, never its value.
    RotateToken {
        /// `operator_token` or `admin_token`.
        #[arg(value_name = "NAME")]
        name: String,
        /// The data directory.
        #[arg(long, value_name = "DIR", default_value = ".onegrid")]
        data: PathBuf,
        /// How long the new token is valid.
        #[arg(long, default_value_t = 90)]
        days: i64,
        /// How long the old token keeps working (0: not at all).
        #[arg(long, default_value_t = 24)]
        overlap_hours: i64,
    },
    /// Print Standard Webhooks headers for a department's callback, as curl flags.
    SignWebhook {
        /// The department's webhook secret.
        #[arg(long, value_name = "whsec_...")]
        secret: String,
        /// The exact body that will be sent.
        #[arg(long, value_name = "JSON")]
        body: String,
        /// The message id (default: a new random one).
        #[arg(long, value_name = "msg_...")]
        id: Option<String>,
    },
}

#[derive(Debug, PartialEq, Subcommand)]
pub enum Import {
    /// A map of grids, checked as the HTTP import checks it, as a new map version.
    Grids {
        /// A GeoJSON FeatureCollection; `-` for stdin.
        file: PathBuf,
        /// The data directory.
        #[arg(long, value_name = "DIR", default_value = ".onegrid")]
        data: PathBuf,
    },
    /// The demo city's registry (addresses, households, residents of every cell), generated
    /// like the demo map, into an empty registry. About a minute for a million residents.
    DemoRegistry {
        /// The data directory (the demo city is loaded there first if it is new).
        #[arg(long, value_name = "DIR", default_value = ".onegrid")]
        data: PathBuf,
        /// How many residents, spread over the 4,103 cells.
        #[arg(long, default_value_t = onegrid::demo_registry::DEFAULT_RESIDENTS)]
        residents: usize,
        /// The seed: the same seed and size, the same people.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Debug, PartialEq, Args)]
pub struct ServeArgs {
    /// The address to listen on (port 0: any free one).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3000")]
    pub listen: String,
    /// The data directory: the database, the key-value store and secrets.json.
    #[arg(long, value_name = "DIR", default_value = ".onegrid")]
    pub data: PathBuf,
    /// The pages to serve (default: the workspace's static/).
    #[arg(long = "static", value_name = "DIR")]
    pub static_dir: Option<PathBuf>,
}

/// The command the arguments (program name first) ask for; `serve` when none is named.
/// A request for help or a mistake is an `Err` that prints itself (`clap::Error::exit`).
pub fn parse<I, T>(args: I) -> Result<Command, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = Cli::try_parse_from(args)?;
    Ok(cli.command.unwrap_or(Command::Serve(cli.serve)))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use clap::error::ErrorKind;

    use super::*;

    fn p(args: &[&str]) -> Result<Command, ErrorKind> {
        parse(std::iter::once("onegrid").chain(args.iter().copied())).map_err(|e| e.kind())
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
        assert!(
            matches!(p(&["--data", "a", "--data", "b"]), Ok(Command::Serve(a)) if a.data == Path::new("b")),
            "the last value wins"
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
        assert!(p(&["demo-city", "--listen", "x"]).is_err(), "not its flag");
        assert_eq!(
            p(&["import", "grids", "city.geojson"]),
            Ok(Command::Import(Import::Grids {
                file: "city.geojson".into(),
                data: ".onegrid".into()
            }))
        );
        assert_eq!(
            p(&["import", "grids", "-", "--data", "/tmp/d"]),
            Ok(Command::Import(Import::Grids {
                file: "-".into(),
                data: "/tmp/d".into()
            }))
        );
        assert!(p(&["import", "grids"]).is_err());
        assert!(p(&["import", "assets", "a.json"]).is_err());
        assert!(p(&["import", "grids", "--data", "d"]).is_err());
    }

    #[test]
    fn every_command_has_its_help() {
        for args in [
            &["--help"][..],
            &["help"],
            &["-h"],
            &["serve", "--help"],
            &["demo-city", "--help"],
            &["import", "--help"],
            &["import", "grids", "--help"],
            &["sign-webhook", "--help"],
            &["help", "sign-webhook"],
        ] {
            assert_eq!(p(args), Err(ErrorKind::DisplayHelp), "{args:?}");
        }
        let help = |args: &[&str]| {
            let args = std::iter::once("onegrid").chain(args.iter().copied());
            parse(args).unwrap_err().render().to_string()
        };
        let top = help(&["--help"]);
        for word in ["serve", "demo-city", "import", "sign-webhook", "--listen"] {
            assert!(top.contains(word), "{word} in\n{top}");
        }
        let serve = help(&["serve", "--help"]);
        for flag in [
            "--listen",
            "--data",
            "--static",
            "127.0.0.1:3000",
            ".onegrid",
        ] {
            assert!(serve.contains(flag), "{flag} in\n{serve}");
        }
        assert!(help(&["demo-city", "--help"]).contains("--seed"));
        assert!(help(&["import", "grids", "--help"]).contains("<FILE>"));
        let sign = help(&["sign-webhook", "--help"]);
        for flag in ["--secret", "--body", "--id"] {
            assert!(sign.contains(flag), "{flag} in\n{sign}");
        }
    }
}
