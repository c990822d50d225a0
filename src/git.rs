//! Shell: the `git` command line, for the base-branch comparison.
//!
//! We shell out to `git` rather than link a git library: it is what CI already has, it
//! understands every repository layout users have (worktrees, shallow clones, partial
//! clones, alternates), and its errors are the ones users know how to fix.
//!
//! What we need is small: resolve a ref to a commit, list the migrations folder at that
//! commit and read its files (one `cat-file --batch` process for all of them), and tell a
//! missing ref in a shallow clone apart from a typo so the error can print the exact
//! `git fetch` that fixes it.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};

use crate::base::BaseView;
use crate::layout::{Layout, LayoutSetting, names};
use crate::migration::{self, Discovery, FolderEntry, Version};

/// A repository, reached from a folder inside its work tree.
#[derive(Clone, Debug)]
pub struct Repo {
    /// Folder `git` runs in (the migrations folder, so `--show-prefix` is relative to it).
    cwd: PathBuf,
}

/// The ref the comparison defaults to: inside GitHub Actions, the pull request's base
/// branch (`GITHUB_BASE_REF`, empty outside `pull_request` events).
pub fn default_base_ref() -> Option<String> {
    let in_actions = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
    if !in_actions {
        return None;
    }
    std::env::var("GITHUB_BASE_REF")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn git(cwd: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(cwd)
        // A user's pager or localised messages must not change what we parse.
        .env("GIT_PAGER", "cat")
        .env("LC_ALL", "C")
        .stdin(Stdio::null());
    cmd
}

/// Runs git and returns stdout; `Ok(None)` when git ran and exited non-zero.
fn output(cwd: &Path, args: &[&str]) -> anyhow::Result<Option<Vec<u8>>> {
    let out = git(cwd)
        .args(args)
        .stderr(Stdio::piped())
        .output()
        .context("cannot run `git` (is git installed and on PATH?)")?;
    Ok(out.status.success().then_some(out.stdout))
}

fn output_string(cwd: &Path, args: &[&str]) -> anyhow::Result<Option<String>> {
    Ok(output(cwd, args)?.map(|b| String::from_utf8_lossy(&b).trim_end().to_string()))
}

impl Repo {
    /// The repository that holds `dir`.
    pub fn discover(dir: &Path) -> anyhow::Result<Repo> {
        let cwd = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir.to_path_buf()
        };
        match output_string(&cwd, &["rev-parse", "--is-inside-work-tree"])? {
            Some(s) if s == "true" => Ok(Repo { cwd }),
            _ => bail!(
                "{} is not inside a git work tree; the base-branch comparison (--base) needs the repository",
                dir.display()
            ),
        }
    }

    /// The folder's path inside the repository (`migrations/`, or `` at the root).
    fn prefix(&self) -> anyhow::Result<String> {
        output_string(&self.cwd, &["rev-parse", "--show-prefix"])?
            .context("git cannot tell where the migrations folder lies in the repository")
    }

    pub fn is_shallow(&self) -> bool {
        matches!(
            output_string(&self.cwd, &["rev-parse", "--is-shallow-repository"]),
            Ok(Some(s)) if s == "true"
        )
    }

    fn commit_of(&self, reference: &str) -> anyhow::Result<Option<String>> {
        output_string(
            &self.cwd,
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                "--end-of-options",
                &format!("{reference}^{{commit}}"),
            ],
        )
    }

    /// Resolves `reference` to a commit id. A bare branch name that only exists as a
    /// remote-tracking branch (`main` → `origin/main`, the usual state of a CI checkout)
    /// is found too. Returns the commit and the ref that matched.
    pub fn resolve(&self, reference: &str) -> anyhow::Result<(String, String)> {
        if reference.is_empty() || reference.starts_with('-') {
            bail!("`{reference}` is not a git ref; pass a branch, tag or commit to --base");
        }
        if let Some(c) = self.commit_of(reference)? {
            return Ok((c, reference.to_string()));
        }
        let remote = format!("origin/{reference}");
        if !reference.starts_with("origin/")
            && let Some(c) = self.commit_of(&remote)?
        {
            return Ok((c, remote));
        }
        bail!("{}", missing_ref_message(reference, self.is_shallow()))
    }

    /// Where `HEAD` forked from `commit`, when the history to find it is present.
    pub fn merge_base(&self, commit: &str) -> anyhow::Result<Option<String>> {
        output_string(&self.cwd, &["merge-base", commit, "HEAD"])
    }

    /// The migration files (and only those) of `dir_display`'s folder at `commit`:
    /// `(file name, bytes)`, read in one `git cat-file --batch` process.
    pub fn read_folder_at(&self, commit: &str) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
        Ok(self
            .read_entries_at(commit, false)?
            .into_iter()
            .filter_map(|e| match e {
                FolderEntry::File { name, bytes }
                    if migration::parse_file_name(&name).is_some() =>
                {
                    Some((name, bytes))
                }
                _ => None,
            })
            .collect())
    }

    /// The folder at `commit` as discovery reads it: files named like migrations with their
    /// bytes, the names of the others, and the `up.sql`/`down.sql`/`metadata.toml` of
    /// subfolders (diesel). Symbolic links and submodules are not files any tool would read.
    /// With `all_bytes`, the other top-level files come with their bytes too (the helper
    /// modules Python migrations import from beside them).
    pub fn read_entries_at(
        &self,
        commit: &str,
        all_bytes: bool,
    ) -> anyhow::Result<Vec<FolderEntry>> {
        let prefix = self.prefix()?;
        let tree = format!("{commit}:{}", prefix.trim_end_matches('/'));
        // A folder that does not exist at the base is an empty folder: every file is new.
        if output(&self.cwd, &["cat-file", "-e", &tree])?.is_none() {
            return Ok(Vec::new());
        }
        // --full-tree: from a subfolder, ls-tree would otherwise filter by the cwd.
        let listing = output(&self.cwd, &["ls-tree", "-r", "-z", "--full-tree", &tree])?
            .with_context(|| format!("git cannot list {tree}"))?;
        let mut top = Vec::new();
        let mut wanted: Vec<(String, String)> = Vec::new();
        for entry in listing.split(|&b| b == 0).filter(|e| !e.is_empty()) {
            let entry = String::from_utf8_lossy(entry);
            let Some((meta, path)) = entry.split_once('\t') else {
                continue;
            };
            let mut meta = meta.split(' ');
            let (mode, kind, oid) = (meta.next(), meta.next(), meta.next());
            if kind != Some("blob") || mode == Some("120000") {
                continue;
            }
            let Some(oid) = oid else { continue };
            match path.split_once('/') {
                None => {
                    if all_bytes || names::looks_like_migration(path) {
                        wanted.push((path.to_string(), oid.to_string()));
                    } else {
                        top.push(FolderEntry::File {
                            name: path.to_string(),
                            bytes: Vec::new(),
                        });
                    }
                }
                Some((folder, file))
                    if names::looks_like_migration(folder)
                        && matches!(file, "up.sql" | "down.sql" | "metadata.toml") =>
                {
                    wanted.push((path.to_string(), oid.to_string()));
                }
                Some(_) => {}
            }
        }
        let blobs = self.cat_blobs(wanted.iter().map(|(_, oid)| oid.as_str()))?;
        let mut folders: Vec<(String, migration::FolderFiles)> = Vec::new();
        for ((path, _), bytes) in wanted.into_iter().zip(blobs) {
            match path.split_once('/') {
                None => top.push(FolderEntry::File { name: path, bytes }),
                Some((folder, file)) => match folders.iter_mut().find(|(f, _)| f == folder) {
                    Some((_, files)) => files.push((file.to_string(), bytes)),
                    None => folders.push((folder.to_string(), vec![(file.to_string(), bytes)])),
                },
            }
        }
        top.extend(
            folders
                .into_iter()
                .map(|(name, files)| FolderEntry::Folder { name, files }),
        );
        Ok(top)
    }

    /// Contents of the given blobs, in order.
    fn cat_blobs<'a>(&self, oids: impl Iterator<Item = &'a str>) -> anyhow::Result<Vec<Vec<u8>>> {
        let input: String = oids.map(|o| format!("{o}\n")).collect();
        if input.is_empty() {
            return Ok(Vec::new());
        }
        let mut child = git(&self.cwd)
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot run `git cat-file`")?;
        let mut stdin = child.stdin.take().context("git cat-file has no stdin")?;
        // Written from another thread: git answers while we write, and a full stdout pipe
        // would otherwise block both sides.
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let mut out = Vec::new();
        child
            .stdout
            .take()
            .context("git cat-file has no stdout")?
            .read_to_end(&mut out)
            .context("cannot read from `git cat-file`")?;
        let status = child.wait().context("git cat-file did not finish")?;
        let _ = writer.join();
        if !status.success() {
            bail!("`git cat-file --batch` failed ({status})");
        }
        parse_batch(&out)
    }
}

/// Parses `git cat-file --batch` output: `<oid> <type> <size>\n<content>\n` per object.
fn parse_batch(mut out: &[u8]) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut blobs = Vec::new();
    while !out.is_empty() {
        let nl = out
            .iter()
            .position(|&b| b == b'\n')
            .context("truncated output from `git cat-file --batch`")?;
        let header = String::from_utf8_lossy(&out[..nl]).to_string();
        let mut parts = header.split(' ');
        let size: usize = match (parts.next(), parts.next(), parts.next()) {
            (Some(_), Some(_), Some(size)) => size
                .parse()
                .with_context(|| format!("unexpected `git cat-file` header `{header}`"))?,
            _ => bail!("git could not read an object: `{header}`"),
        };
        let body = out
            .get(nl + 1..nl + 1 + size)
            .context("truncated output from `git cat-file --batch`")?;
        blobs.push(body.to_vec());
        out = out.get(nl + 2 + size..).unwrap_or_default();
    }
    Ok(blobs)
}

/// The branch a ref names on `origin`, for the fetch hint.
fn branch_of(reference: &str) -> &str {
    reference
        .strip_prefix("refs/remotes/origin/")
        .or_else(|| reference.strip_prefix("refs/heads/"))
        .or_else(|| reference.strip_prefix("origin/"))
        .unwrap_or(reference)
}

/// The command that makes `reference` available: a depth-1 fetch is enough, because the
/// comparison reads the folder at the base's tip and needs no common history.
pub fn fetch_hint(reference: &str) -> String {
    let branch = branch_of(reference);
    format!(
        "git fetch --no-tags --depth=1 origin {}",
        shell_quote(&format!("{branch}:refs/remotes/origin/{branch}"))
    )
}

/// `s` as one POSIX shell word: as is when it holds only characters no shell treats
/// specially, else in single quotes (a `'` inside written `'\''`). A ref is user input
/// (`--base 'x; rm -rf ~'`): the hint is meant to be pasted into a shell.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:@%+=,".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn missing_ref_message(reference: &str, shallow: bool) -> String {
    let why = if shallow {
        "this is a shallow clone (actions/checkout fetches one commit by default), so the base branch was never fetched"
    } else {
        "no branch, tag or commit of that name exists locally"
    };
    let branch = branch_of(reference);
    format!(
        "git ref `{reference}` not found: {why}. Fetch it with\n\n    {}\n\nthen run again (it is then found as `origin/{branch}`), or set `fetch-depth: 0` on actions/checkout",
        fetch_hint(reference)
    )
}

/// Loads the migrations folder at `reference` (and where the current branch forked from
/// it, when the history is there) for [`crate::base::compare`].
pub fn load_base(
    migrations_dir: &Path,
    dir_display: &str,
    reference: &str,
    layout: Layout,
) -> anyhow::Result<BaseView> {
    let repo = Repo::discover(migrations_dir)?;
    let (commit, resolved) = repo.resolve(reference)?;
    let tip = discover_at(&repo, &commit, dir_display, layout)?;
    let fork = match repo.merge_base(&commit)? {
        Some(fork) if fork != commit => Some(discover_at(&repo, &fork, dir_display, layout)?),
        _ => None,
    };
    Ok(BaseView {
        label: resolved,
        tip,
        fork,
    })
}

/// The base of a pull request: the base branch's folder (for the comparison) and the folder
/// where the branch forked from it, which pull-request mode analyses as "before".
#[derive(Debug)]
pub struct PrBase {
    pub view: BaseView,
    /// Where the branch forked from the base; the base's tip when the history to find the
    /// fork point is absent (a shallow clone), which is also what a pull request's merge
    /// commit is built from.
    pub commit: String,
    /// The migrations folder at `commit`: every top-level file with its bytes (the
    /// migrations, and the helper modules Python migrations may import from beside them)
    /// and the migration folders a layout reads (diesel).
    pub entries: Vec<FolderEntry>,
}

impl PrBase {
    /// The migrations at the fork point, read in `layout`.
    pub fn discovery(&self, dir_display: &str, layout: Layout) -> Discovery {
        migration::discover_folder(
            dir_display,
            LayoutSetting::Fixed(layout),
            self.entries.clone(),
        )
    }
}

/// [`load_base`], plus the folder at the fork point for pull-request mode.
pub fn load_pr_base(
    migrations_dir: &Path,
    dir_display: &str,
    reference: &str,
    layout: Layout,
) -> anyhow::Result<PrBase> {
    let repo = Repo::discover(migrations_dir)?;
    let (tip_commit, resolved) = repo.resolve(reference)?;
    let tip = discover_at(&repo, &tip_commit, dir_display, layout)?;
    let fork_commit = repo
        .merge_base(&tip_commit)?
        .unwrap_or_else(|| tip_commit.clone());
    let fork = if fork_commit != tip_commit {
        Some(discover_at(&repo, &fork_commit, dir_display, layout)?)
    } else {
        None
    };
    let entries = repo.read_entries_at(&fork_commit, true)?;
    Ok(PrBase {
        view: BaseView {
            label: resolved,
            tip,
            fork,
        },
        commit: fork_commit,
        entries,
    })
}

/// The base is read in the working tree's layout: a branch that changes the layout is
/// compared file by file in the new one.
fn discover_at(
    repo: &Repo,
    commit: &str,
    dir_display: &str,
    layout: Layout,
) -> anyhow::Result<Discovery> {
    let entries = repo.read_entries_at(commit, false)?;
    Ok(migration::discover_folder(
        dir_display,
        LayoutSetting::Fixed(layout),
        entries,
    ))
}

/// The base-branch findings for the working tree's folder (`lint --base`, `check`).
pub fn compare_with_base(
    migrations_dir: &Path,
    dir_display: &str,
    work: &Discovery,
    reference: &str,
) -> anyhow::Result<Vec<crate::report::Finding>> {
    let base = load_base(migrations_dir, dir_display, reference, work.layout)?;
    Ok(crate::base::compare(&base, work))
}

/// Every migration version in the folder at `reference` (`generate --base`: the next
/// version must also be above the base branch's newest).
pub fn versions_at(
    migrations_dir: &Path,
    dir_display: &str,
    reference: &str,
    layout: Layout,
) -> anyhow::Result<Vec<Version>> {
    let base = load_base(migrations_dir, dir_display, reference, layout)?;
    Ok(base.tip.migrations.into_iter().map(|m| m.version).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_output_is_split_by_sizes_not_lines() {
        let out = b"aaa blob 3\na\nb\nbbb blob 0\n\n";
        let blobs = parse_batch(out).unwrap();
        assert_eq!(blobs, vec![b"a\nb".to_vec(), Vec::new()]);
        assert!(parse_batch(b"ccc missing\n").is_err());
        assert!(parse_batch(b"aaa blob 10\nshort\n").is_err());
    }

    #[test]
    fn fetch_hint_targets_the_remote_tracking_branch() {
        assert_eq!(
            fetch_hint("main"),
            "git fetch --no-tags --depth=1 origin main:refs/remotes/origin/main"
        );
        assert_eq!(
            fetch_hint("origin/release/1.2"),
            "git fetch --no-tags --depth=1 origin release/1.2:refs/remotes/origin/release/1.2"
        );
    }

    /// Issue 12.17: the ref was pasted into the hint unquoted.
    #[test]
    fn the_fetch_hint_quotes_a_ref_for_the_shell() {
        assert_eq!(
            fetch_hint("x; rm -rf ~"),
            "git fetch --no-tags --depth=1 origin 'x; rm -rf ~:refs/remotes/origin/x; rm -rf ~'"
        );
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("$(id)"), "'$(id)'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn missing_ref_message_explains_shallow_clones() {
        let m = missing_ref_message("main", true);
        assert!(m.contains("shallow clone"));
        assert!(m.contains("git fetch --no-tags --depth=1 origin main:refs/remotes/origin/main"));
    }
}
