//! `schemagate completions SHELL` and `schemagate man`: generated from the clap
//! definitions, so they list exactly the options `--help` shows.

use std::path::Path;

use anyhow::Context as _;
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs, ManArgs, Outcome};

pub fn completions(args: &CompletionsArgs) -> anyhow::Result<Outcome> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "schemagate", &mut out);
    write_stdout(&out)?;
    Ok(Outcome::Clean)
}

pub fn man(args: &ManArgs) -> anyhow::Result<Outcome> {
    let cmd = Cli::command();
    match &args.dir {
        None => write_stdout(&render(&cmd)?)?,
        Some(dir) => write_pages(&cmd, dir)?,
    }
    Ok(Outcome::Clean)
}

fn render(cmd: &clap::Command) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut out)
        .context("cannot render the man page")?;
    Ok(out)
}

/// `schemagate.1` and `schemagate-COMMAND.1` (the names `man schemagate-migrate` finds:
/// clap names each built subcommand `schemagate-COMMAND`).
fn write_pages(cmd: &clap::Command, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut cmd = cmd.clone();
    cmd.build();
    let pages =
        std::iter::once(&cmd).chain(cmd.get_subcommands().filter(|s| s.get_name() != "help"));
    for page in pages {
        let man = clap_mangen::Man::new(page.clone());
        let path = dir.join(man.get_filename());
        crate::fsio::write_atomic(&path, &render(page)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(bytes).context("cannot write to stdout")?;
    out.flush().context("cannot write to stdout")
}
