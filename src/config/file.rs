//! Loading the settings: flags, then `SSH_CHATROOM_*` variables, then the `--config` TOML
//! file, then defaults. File keys are the flag names; an unknown key or a bad value is
//! refused with one line naming it.

use std::ffi::OsString;
use std::path::Path;

use anyhow::{anyhow, bail, Context};
use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, FromArgMatches};

use super::Cli;

/// Parses `args` (program name first) and merges the config file they name.
///
/// # Errors
/// A [`clap::Error`] for bad flags (print it with `exit()`), or a one-line description
/// of a problem with the config file.
pub fn load<I, T>(args: I) -> anyhow::Result<Cli>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let matches = Cli::parser().try_get_matches_from(&args)?;
    let cli = Cli::from_arg_matches(&matches)?;
    let Some(path) = cli.config.config.clone() else {
        return Ok(cli);
    };
    let from_file = file_args(&path, &matches)?;
    let program = args
        .first()
        .cloned()
        .unwrap_or_else(|| "ssh-chatroom".into());
    let merged: Vec<OsString> = std::iter::once(program)
        .chain(from_file)
        .chain(args.into_iter().skip(1))
        .collect();
    let matches = Cli::parser().try_get_matches_from(merged)?;
    Ok(Cli::from_arg_matches(&matches)?)
}

/// The file's settings as flags, leaving out every setting a flag or variable already
/// gave.
fn file_args(path: &Path, given: &ArgMatches) -> anyhow::Result<Vec<OsString>> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).with_context(|| format!("config file {shown}"))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| anyhow!("config file {shown}: {}", e.message()))?;
    let command = Cli::parser();
    let mut out = Vec::new();
    for (key, value) in &table {
        let arg = command
            .get_arguments()
            .find(|a| a.get_long() == Some(key.as_str()) && key != "config")
            .ok_or_else(|| anyhow!("config file {shown}: unknown key \"{key}\""))?;
        if !matches!(
            given.value_source(arg.get_id().as_str()),
            None | Some(ValueSource::DefaultValue)
        ) {
            continue;
        }
        let flag = format!("--{key}");
        let mut these: Vec<OsString> = Vec::new();
        if matches!(arg.get_action(), ArgAction::SetTrue) {
            match value {
                toml::Value::Boolean(true) => these.push(flag.into()),
                toml::Value::Boolean(false) => {}
                _ => bail!("config file {shown}: key \"{key}\" must be true or false"),
            }
        } else {
            for item in scalars(value) {
                let item = item.ok_or_else(|| {
                    anyhow!("config file {shown}: key \"{key}\" has a value of the wrong type")
                })?;
                these.push(flag.clone().into());
                these.push(item.into());
            }
        }
        // Check this key alone, so a bad value is reported against its key.
        let alone = std::iter::once(OsString::from("ssh-chatroom")).chain(these.iter().cloned());
        if let Err(e) = Cli::parser().try_get_matches_from(alone) {
            let detail = e.to_string();
            let first = detail.lines().next().unwrap_or_default();
            bail!(
                "config file {shown}: key \"{key}\": {}",
                first.trim_start_matches("error: ")
            );
        }
        out.extend(these);
    }
    Ok(out)
}

/// A TOML value (or each element of an array) as flag text; `None` for tables and
/// dates.
fn scalars(value: &toml::Value) -> Vec<Option<String>> {
    match value {
        toml::Value::Array(items) => items.iter().flat_map(scalars).collect(),
        toml::Value::String(s) => vec![Some(s.clone())],
        toml::Value::Integer(i) => vec![Some(i.to_string())],
        toml::Value::Float(f) => vec![Some(f.to_string())],
        toml::Value::Boolean(b) => vec![Some(b.to_string())],
        _ => vec![None],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> String {
        let path = dir.join("c.toml");
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    }

    #[test]
    fn file_values_apply_and_flags_win() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            "capacity = 7\nhistory = 3\nadmin-key = [\"SHA256:a\", \"SHA256:b\"]\nno-user-logs = true\n",
        );
        let cli = load(["x", "--config", &file, "--history", "9"]).unwrap();
        assert_eq!(cli.config.capacity, 7);
        assert_eq!(cli.config.history, 9);
        assert_eq!(cli.config.admin_keys, ["SHA256:a", "SHA256:b"]);
        assert!(cli.config.no_user_logs);
    }

    #[test]
    fn settings_work_before_and_after_the_subcommand() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "capacity = 7\n");
        for args in [
            ["x", "check", "--config", &file, "--history", "9"],
            ["x", "--config", &file, "check", "--history", "9"],
            ["x", "--history", "9", "--config", &file, "check"],
        ] {
            let cli = load(args).unwrap();
            assert!(matches!(cli.command, Some(super::super::Command::Check)));
            assert_eq!(
                (cli.config.capacity, cli.config.history),
                (7, 9),
                "{args:?}"
            );
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "capacty = 7\n");
        let err = load(["x", "--config", &file]).unwrap_err().to_string();
        assert!(err.contains("unknown key \"capacty\""), "{err}");
        let file = write(dir.path(), "capacity = \"lots\"\n");
        let err = load(["x", "--config", &file]).unwrap_err().to_string();
        assert!(
            err.contains("key \"capacity\"") && err.contains("lots"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
        let file = write(dir.path(), "timezone = \"Mars/Base\"\n");
        let err = load(["x", "--config", &file]).unwrap_err().to_string();
        assert!(err.contains("key \"timezone\""), "{err}");
    }
}
