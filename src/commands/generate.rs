use anyhow::{Context as _, bail};

use crate::cli::{Context, GenerateArgs, MigrationType, Outcome};
use crate::generate;
use crate::migration::Kind;

pub fn run(ctx: &Context, args: &GenerateArgs) -> anyhow::Result<Outcome> {
    generate::validate_name(&args.name)?;
    let discovery = ctx.read_migrations()?;
    let mut known: Vec<_> = discovery
        .migrations
        .iter()
        .map(|m| m.version.clone())
        .collect();
    if let Some(base) = &args.base {
        known.extend(base_versions(ctx, base, discovery.layout)?);
    }
    let version = generate::next_version(&known, ctx.config.migrations.version_step)?;
    let kind = match args.kind {
        MigrationType::Sql => Kind::Sql,
        MigrationType::Python => Kind::Python,
    };
    let file_name = generate::file_name(&version, &args.name, kind);
    let path = ctx.migrations_dir.join(&file_name);
    if path.exists() {
        bail!("{} already exists; nothing written", path.display());
    }
    crate::fsio::write_new(&path, generate::template(&args.name, kind).as_bytes()).with_context(
        || {
            format!(
                "cannot write the new migration into {}",
                ctx.migrations_dir.display()
            )
        },
    )?;
    ctx.log(format!(
        "created {}",
        crate::migration::join_display(&ctx.dir_display, &file_name)
    ));
    if ctx.format == crate::cli::Format::Json {
        let out = serde_json::json!({
            "version": version.as_str(),
            "path": crate::migration::join_display(&ctx.dir_display, &file_name),
            "kind": kind.as_str(),
        });
        ctx.emit(&format!("{out}\n"))?;
    } else if ctx.quiet {
        // Scripts that use -q still want the path of what was created.
        ctx.emit(&format!(
            "{}\n",
            crate::migration::join_display(&ctx.dir_display, &file_name)
        ))?;
    }
    Ok(Outcome::Clean)
}

/// Versions of the migrations folder at a git ref, so two branches do not both take "the
/// next" number.
fn base_versions(
    ctx: &Context,
    base: &str,
    layout: crate::layout::Layout,
) -> anyhow::Result<Vec<crate::migration::Version>> {
    crate::git::versions_at(&ctx.migrations_dir, &ctx.dir_display, base, layout)
}
