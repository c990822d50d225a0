//! The folder cache of `migrate` (shell): with nothing changed in the migrations folder, a
//! no-op deploy stats each migration file instead of reading, decoding and hashing it.
//!
//! What is cached is the whole [`Discovery`] of a folder, with the [`Stamp`] of every file
//! named like a migration and the names of all the other entries. Discovery is a pure
//! function of the folder's names and the bytes of those files (and of the folder as shown,
//! the layout setting and this build), so when the folder lists the same names and every
//! file has the same stamp, the cached discovery is the one a full read would give:
//! - a write to a file, and any change of its times (`touch -d` included), sets its ctime
//!   to the current time, which cannot be chosen; a file renamed into a name's place, or
//!   one deleted and created again, is another inode with a new ctime;
//! - two writes within one tick of the file system's clock can leave the same ctime, so a
//!   stamp is stored only when its ctime is older than the start of the read by [`SETTLE`]
//!   (Git's "racily clean" entries, avoided instead of rechecked);
//! - each stamp is taken on the open file before its bytes are read, and the names and the
//!   files come from one folder descriptor (`fsio::Listing::pinned`);
//! - the cache file names its format, the tool's version and the executable (a rebuilt
//!   binary may discover differently), the folder, how it is shown and the layout setting,
//!   and ends with a 64-bit hash of the rest ([`seal`]): a corrupt, truncated, foreign or
//!   older file is a
//!   miss. A miss, or anything odd in the folder (a symbolic link, a sub-folder, a name
//!   that is not UTF-8, an error), is a full read.
//!
//! The cache lives in `$XDG_CACHE_HOME/schemagate/folders/` (else
//! `~/.cache/schemagate/folders/`), one file per folder, written atomically by `migrate`
//! only (never by a read-only command). Deleting it is always safe. `apply::run` also falls
//! back to a full read whenever a cached discovery leaves anything to do or to report, so
//! the cache can only ever conclude "current, nothing to apply".

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::fsio::{Listing, Stamp};
use crate::layout::{Layout, LayoutSetting, names};
use crate::migration::{Discovery, DownSql, Kind, Migration, MissingUp, Unsupported, Version};

mod memo;

pub use memo::{Inputs, Memo};

/// How much older than the start of a read a file's ctime must be for its stamp to be
/// stored: more than a tick of the coarsest file-system clock in use (ext3, HFS+ and some
/// network file systems keep whole seconds; FAT two).
pub const SETTLE: Duration = Duration::from_secs(3);

/// Where the folder was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Every file stamped as when it was cached: nothing was read but the cache file.
    Cache,
    /// Read in full; why the cache was not used, and whether the read was cached.
    Disk { why: String, stored: bool },
}

/// The cache folder: `$XDG_CACHE_HOME/schemagate` (an absolute path, as the XDG spec
/// wants), else `$HOME/.cache/schemagate`; `None` without either.
pub fn default_dir() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let base = xdg.or_else(|| {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .map(|h| h.join(".cache"))
    })?;
    Some(base.join("schemagate"))
}

/// [`crate::fsio::read_migrations_folder`] through the cache in `cache_dir`: the cached
/// discovery when the folder is unchanged, else a full read, stored for the next run when
/// it can be.
pub fn read_migrations_folder(
    dir: &Path,
    dir_display: &str,
    layout: LayoutSetting,
    cache_dir: &Path,
) -> anyhow::Result<(Discovery, Source)> {
    match lookup_folder(dir, dir_display, layout, cache_dir)? {
        Found::Concluded { rest, .. } => rest.discovery(),
        Found::Cached(d, _) => Ok((d, Source::Cache)),
        Found::Miss(miss) => miss.read(),
    }
}

/// What [`lookup_folder`] found.
pub enum Found {
    /// Unchanged since `migrate` concluded "current, nothing to report" on it: whether
    /// that is the answer again is for [`Memo::holds`] to say; `rest` gives the discovery
    /// when it is not. `files`: how many migration files it has.
    Concluded {
        memo: Memo,
        rest: Deferred,
        files: usize,
    },
    /// Unchanged since the cache was written; the memo to record a conclusion in.
    Cached(Discovery, Memo),
    /// Not answered by the cache.
    Miss(Miss),
}

/// The first half of [`read_migrations_folder`]: what the cache knows of the folder when it
/// is unchanged (a listing, a stat per file and the cache files), else what the full read
/// needs, which [`Miss::read`] does (on another thread, if the caller wants).
pub fn lookup_folder(
    dir: &Path,
    dir_display: &str,
    layout: LayoutSetting,
    cache_dir: &Path,
) -> anyhow::Result<Found> {
    let started = SystemTime::now();
    let miss = |listed: Option<Listed>, why: String| Miss {
        dir: dir.to_path_buf(),
        dir_display: dir_display.to_string(),
        layout,
        cache_dir: cache_dir.to_path_buf(),
        started,
        listed,
        why,
    };
    let Some(listing) = Listing::pinned(dir)? else {
        let why = "the folder cannot be listed through its descriptor";
        return Ok(Found::Miss(miss(None, why.into())));
    };
    let Some(key) = Key::of(dir, dir_display, layout) else {
        let why = "the folder or the executable cannot be identified";
        return Ok(Found::Miss(miss(None, why.into())));
    };
    let file = cache_dir
        .join("folders")
        .join(format!("{}.bin", key.file_name()));
    let Some(names) = names(&listing) else {
        let why = "the folder holds an entry the cache does not cover";
        let listed = Listed {
            listing,
            key,
            file,
            names: None,
            seen: None,
        };
        return Ok(Found::Miss(miss(Some(listed), why.into())));
    };
    if let Some((memo, seen)) = Memo::find(cache_dir, &file, &key, |r| stamped(&listing, &names, r))
    {
        let files = names.iter().filter(|(_, migration)| *migration).count();
        let listed = Listed {
            listing,
            key,
            file,
            names: Some(names),
            seen: Some(seen),
        };
        let rest = Deferred(miss(Some(listed), String::new()));
        return Ok(Found::Concluded { memo, rest, files });
    }
    let why = match cached(&file, &key, |r| stamped(&listing, &names, r)) {
        Ok((d, seen)) => return Ok(Found::Cached(d, Memo::new(cache_dir, &file, &key, &seen))),
        Err(why) => why,
    };
    let listed = Listed {
        listing,
        key,
        file,
        names: Some(names),
        seen: None,
    };
    Ok(Found::Miss(miss(Some(listed), why)))
}

/// The discovery of a folder found [`Found::Concluded`], read when the memo does not hold.
pub struct Deferred(Miss);

impl Deferred {
    /// The cached discovery, else a full read (stored for the next run when it can be).
    pub fn discovery(self) -> anyhow::Result<(Discovery, Source)> {
        let mut miss = self.0;
        if let Some(Listed {
            key,
            file,
            seen: Some(seen),
            ..
        }) = &miss.listed
        {
            miss.why = match cached(file, key, same(seen)) {
                Ok((d, _)) => return Ok((d, Source::Cache)),
                Err(why) => why,
            };
        }
        miss.read()
    }
}

/// The discovery in the cache file `file`, when `entries` accepts its entries (see
/// [`lookup`]); else why not.
fn cached(
    file: &Path,
    key: &Key,
    entries: impl FnOnce(&mut Dec<'_>) -> Option<Seen>,
) -> Result<(Discovery, Seen), String> {
    match fs::read(file) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err("no cache yet".into()),
        Err(e) => Err(format!("the cache file cannot be read ({e})")),
        Ok(bytes) => lookup(&bytes, key, entries).map_err(str::to_string),
    }
}

/// A folder the cache did not answer for, and why.
pub struct Miss {
    dir: PathBuf,
    dir_display: String,
    layout: LayoutSetting,
    cache_dir: PathBuf,
    started: SystemTime,
    listed: Option<Listed>,
    why: String,
}

/// The folder as listed and stamped by [`lookup_folder`], reused by the full read.
struct Listed {
    listing: Listing,
    key: Key,
    file: PathBuf,
    /// `None`: an entry the cache does not cover.
    names: Option<Names>,
    /// As stamped when the memo was found.
    seen: Option<Seen>,
}

impl Miss {
    /// Reads the folder in full and stores it in the cache when it can.
    pub fn read(self) -> anyhow::Result<(Discovery, Source)> {
        let Miss {
            dir,
            dir_display,
            layout,
            cache_dir,
            started,
            listed,
            why,
        } = self;
        let Some(Listed {
            listing,
            key,
            file,
            names,
            ..
        }) = listed
        else {
            let d = crate::fsio::read_migrations_folder(&dir, &dir_display, layout)?;
            return Ok((d, Source::Disk { why, stored: false }));
        };
        let (d, stamps) = listing.read(&dir_display, layout, true)?;
        let settled_before = started
            .checked_sub(settle())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let stored = match (names, stamps) {
            (Some(names), Some(stamps)) if d.errors.is_empty() => {
                let entries = with_stamps(names, stamps, settled_before);
                entries.is_some_and(|entries| store(&cache_dir, &file, &key, &entries, &d).is_ok())
            }
            _ => false,
        };
        Ok((d, Source::Disk { why, stored }))
    }
}

/// [`SETTLE`], or `SCHEMAGATE_TEST_CACHE_SETTLE_MS` (tests only: they cannot wait for
/// their files to age).
fn settle() -> Duration {
    std::env::var("SCHEMAGATE_TEST_CACHE_SETTLE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(SETTLE, Duration::from_millis)
}

/// One entry of the folder: its name, and the stamp of a file named like a migration.
type Seen = Vec<(String, Option<Stamp>)>;

/// The folder's entries by name, and whether each is named like a migration.
type Names = Vec<(String, bool)>;

/// The folder's entries sorted by name, each with whether it is a migration file (those
/// are stamped); `None` when an entry is anything the cache does not cover (a name that is
/// not UTF-8; a link, folder or special file named like a migration), which the full read
/// handles.
fn names(listing: &Listing) -> Option<Names> {
    let mut names = Vec::with_capacity(listing.entries.len());
    for entry in &listing.entries {
        let name = entry.file_name().into_string().ok()?;
        let migration = names::looks_like_migration(&name);
        if migration && !entry.file_type().is_ok_and(|t| t.is_file()) {
            return None;
        }
        names.push((name, migration));
    }
    names.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Some(names)
}

/// The entries with the stamps of the migration files, taken one by one for as long as
/// they are the ones encoded in `r`: `None` at the first difference, so that a folder
/// checked out again costs one stat, not one per file.
fn stamped(listing: &Listing, names: &Names, r: &mut Dec<'_>) -> Option<Seen> {
    let dir_fd = listing.folder.0.as_ref()?;
    if r.len()? != names.len() {
        return None;
    }
    let mut seen = Vec::with_capacity(names.len());
    let mut e = Enc(Vec::with_capacity(128));
    for (name, migration) in names {
        let stamp = if *migration {
            Some(Stamp::at(dir_fd, name)?)
        } else {
            None
        };
        e.0.clear();
        put_entry(&mut e, name, stamp.as_ref());
        // The encoding is one-to-one: the same bytes are the same entry.
        if r.take(e.0.len())? != e.0.as_slice() {
            return None;
        }
        seen.push((name.clone(), stamp));
    }
    Some(seen)
}

/// Accepts the entries encoded in `r` when they are exactly `seen`.
fn same(seen: &Seen) -> impl FnOnce(&mut Dec<'_>) -> Option<Seen> + '_ {
    move |r| {
        let mut e = Enc(Vec::with_capacity(80 * seen.len()));
        put_seen(&mut e, seen);
        (r.take(e.0.len())? == e.0.as_slice()).then(|| seen.clone())
    }
}

/// The entries with the stamps taken as the files were read, when every migration file has
/// one and every one settled before `settled_before`.
fn with_stamps(
    names: Names,
    stamps: crate::fsio::Stamps,
    settled_before: SystemTime,
) -> Option<Seen> {
    let limit = settled_before.duration_since(SystemTime::UNIX_EPOCH).ok()?;
    let limit = (i64::try_from(limit.as_secs()).ok()?, limit.subsec_nanos());
    let mut read: BTreeMap<String, Stamp> = stamps.into_iter().collect();
    let mut out = Vec::with_capacity(names.len());
    for (name, migration) in names {
        let stamp = if migration {
            let s = read.remove(&name)?;
            if s.ctime >= limit {
                return None;
            }
            Some(s)
        } else {
            None
        };
        out.push((name, stamp));
    }
    read.is_empty().then_some(out)
}

/// The cached discovery and the entries, when the cache file is whole, was written for this
/// folder, this display, this layout setting and this build, and `entries` accepts the
/// entries it lists ([`stamped`], [`same`]).
fn lookup(
    bytes: &[u8],
    key: &Key,
    entries: impl FnOnce(&mut Dec<'_>) -> Option<Seen>,
) -> Result<(Discovery, Seen), &'static str> {
    let body = bytes
        .len()
        .checked_sub(SEAL_LEN)
        .map(|n| &bytes[..n])
        .filter(|b| b.starts_with(MAGIC))
        .ok_or("the cache file is not one of schemagate's")?;
    // What the file says is compared before its digest is checked, so that a miss costs
    // no hashing; nothing it says is used before the digest matched.
    let mut r = Dec(&body[MAGIC.len()..]);
    let cached_key = Key::get(&mut r).ok_or("the cache file is damaged")?;
    if cached_key != *key {
        return Err("the cache was written for another folder, layout setting or build");
    }
    let Some(seen) = entries(&mut r) else {
        return Err("files were added, removed, replaced or changed since the cache was written");
    };
    if seal(body) != bytes[body.len()..] {
        return Err("the cache file is damaged");
    }
    let d = get_discovery(&mut r).ok_or("the cache file is damaged")?;
    if !r.0.is_empty() {
        return Err("the cache file is damaged");
    }
    Ok((d, seen))
}

/// Writes the cache file atomically (a temporary file renamed into place). Not synced: a
/// file lost or torn in a crash is a damaged cache, which is a miss.
fn store(
    cache_dir: &Path,
    file: &Path,
    key: &Key,
    seen: &Seen,
    d: &Discovery,
) -> std::io::Result<()> {
    let mut e = Enc(Vec::with_capacity(64 * 1024));
    e.0.extend_from_slice(MAGIC);
    key.put(&mut e);
    put_seen(&mut e, seen);
    put_discovery(&mut e, d);
    write_sealed(cache_dir, file, e)
}

/// Seals `e` and writes it atomically (a temporary file renamed into place).
fn write_sealed(cache_dir: &Path, file: &Path, mut e: Enc) -> std::io::Result<()> {
    let seal = seal(&e.0);
    e.0.extend_from_slice(&seal);
    let folder = file.parent().unwrap_or(cache_dir);
    create_private_dir(folder)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(folder)?;
    tmp.write_all(&e.0)?;
    tmp.persist(file).map_err(|e| e.error)?;
    Ok(())
}

/// The sealed part of a cache file's bytes, when its seal matches.
fn unseal(bytes: &[u8]) -> Option<&[u8]> {
    let body = &bytes[..bytes.len().checked_sub(SEAL_LEN)?];
    (seal(body) == bytes[body.len()..]).then_some(body)
}

/// The cache holds the text of migrations: readable by their owner only.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// `SGFOLDER` and the format's number: a format change makes every older file a miss.
const MAGIC: &[u8] = b"SGFOLDER\x02";

const SEAL_LEN: usize = 8;

/// What ends a cache file: a hash of the rest, so that a torn, truncated or bit-rotted file
/// is a miss. Not a cryptographic digest: whoever can write the cache folder can write a
/// matching one, and SHA-256 of the migrations' text was a twentieth of a no-op run. The
/// hash may differ between builds, and so does the cache key (the executable's stamp).
fn seal(body: &[u8]) -> [u8; SEAL_LEN] {
    use std::hash::BuildHasher as _;
    foldhash::quality::FixedState::with_seed(0x5347_464f_4c44_4552)
        .hash_one(body)
        .to_le_bytes()
}

/// What a cached discovery is valid for besides the files: the folder (its canonical path,
/// which also names the cache file), how it is shown, the layout setting, and the build.
#[derive(Debug, PartialEq, Eq)]
struct Key {
    folder: Vec<u8>,
    display: String,
    layout: String,
    version: String,
    executable: [u64; 4],
}

impl Key {
    fn of(dir: &Path, dir_display: &str, layout: LayoutSetting) -> Option<Key> {
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::fs::MetadataExt;
        let folder = fs::canonicalize(dir).ok()?;
        let exe = fs::metadata(std::env::current_exe().ok()?).ok()?;
        Some(Key {
            folder: folder.as_os_str().as_bytes().to_vec(),
            display: dir_display.to_string(),
            layout: format!("{layout:?}"),
            version: env!("CARGO_PKG_VERSION").to_string(),
            executable: [
                exe.dev(),
                exe.ino(),
                exe.size(),
                u64::try_from(exe.mtime())
                    .unwrap_or(0)
                    .wrapping_mul(1_000_000_000)
                    .wrapping_add(u64::try_from(exe.mtime_nsec()).unwrap_or(0)),
            ],
        })
    }

    /// The cache file's name: a digest of the folder, display and setting, so that each
    /// way of running on a folder has its own file.
    fn file_name(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            self.folder.as_slice(),
            self.display.as_bytes(),
            self.layout.as_bytes(),
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
        h.finalize()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn put(&self, e: &mut Enc) {
        e.bytes(&self.folder);
        e.str(&self.display);
        e.str(&self.layout);
        e.str(&self.version);
        for n in self.executable {
            e.u64(n);
        }
    }

    fn get(r: &mut Dec<'_>) -> Option<Key> {
        Some(Key {
            folder: r.bytes()?.to_vec(),
            display: r.string()?,
            layout: r.string()?,
            version: r.string()?,
            executable: [r.u64()?, r.u64()?, r.u64()?, r.u64()?],
        })
    }
}

fn put_seen(e: &mut Enc, seen: &Seen) {
    e.len(seen.len());
    for (name, stamp) in seen {
        put_entry(e, name, stamp.as_ref());
    }
}

fn put_entry(e: &mut Enc, name: &str, stamp: Option<&Stamp>) {
    e.str(name);
    match stamp {
        None => e.u8(0),
        Some(s) => {
            e.u8(1);
            for n in [s.dev, s.ino, s.size] {
                e.u64(n);
            }
            for (secs, nanos) in [s.mtime, s.ctime] {
                e.u64(secs as u64);
                e.u64(u64::from(nanos));
            }
        }
    }
}

fn put_discovery(e: &mut Enc, d: &Discovery) {
    debug_assert!(d.errors.is_empty(), "a folder with errors is not cached");
    e.u8(layout_code(d.layout));
    e.str(&d.evidence);
    e.len(d.migrations.len());
    for m in &d.migrations {
        e.str(m.version.as_str());
        e.str(&m.native_version);
        e.str(&m.name);
        e.u8(match m.kind {
            Kind::Sql => 0,
            Kind::Python => 1,
        });
        e.str(&m.file_name);
        e.str(&m.path);
        e.str(&m.text);
        e.u64(m.up.start as u64);
        e.u64(m.up.end as u64);
        match &m.down {
            None => e.u8(0),
            Some(down) => {
                e.u8(1);
                e.str(&down.file_name);
                e.str(&down.path);
                e.str(&down.text);
                e.u64(down.span.start as u64);
                e.u64(down.span.end as u64);
                e.u8(u8::from(down.no_transaction));
            }
        }
        e.str(&m.checksum);
        e.str(&m.legacy_checksum);
        e.str(&m.description);
        e.u8(u8::from(m.no_transaction));
    }
    e.len(d.unversioned.len());
    for u in &d.unversioned {
        e.str(u);
    }
    e.len(d.unsupported.len());
    for u in &d.unsupported {
        e.str(&u.path);
        e.str(&u.file_name);
        e.opt_str(u.version.as_deref());
        e.str(&u.reason);
    }
    e.len(d.missing_up.len());
    for m in &d.missing_up {
        e.str(&m.path);
        e.opt_u64(m.line.map(|n| n as u64));
        e.opt_u64(m.column.map(|n| n as u64));
        e.str(&m.message);
    }
}

fn get_discovery(r: &mut Dec<'_>) -> Option<Discovery> {
    let code = r.u8()?;
    let layout = *Layout::ALL.iter().find(|l| layout_code(**l) == code)?;
    let evidence = r.string()?;
    let n = r.len()?;
    let mut migrations = Vec::with_capacity(n.min(r.0.len()));
    for _ in 0..n {
        let version = Version::parse_dotted(r.str()?)?;
        let native_version = r.string()?;
        let name = r.string()?;
        let kind = match r.u8()? {
            0 => Kind::Sql,
            1 => Kind::Python,
            _ => return None,
        };
        let file_name = r.string()?;
        let path = r.string()?;
        let text = r.string()?;
        // A span that is not on the text's character boundaries would panic where the SQL
        // is sliced: such a file is damaged.
        let up = r.span(&text)?;
        let down = match r.u8()? {
            0 => None,
            1 => {
                let file_name = r.string()?;
                let path = r.string()?;
                let text = r.string()?;
                let span = r.span(&text)?;
                let no_transaction = r.bool()?;
                Some(DownSql {
                    file_name,
                    path,
                    text,
                    span,
                    no_transaction,
                })
            }
            _ => return None,
        };
        migrations.push(Migration {
            version,
            native_version,
            name,
            kind,
            file_name,
            path,
            text,
            up,
            down,
            checksum: r.string()?,
            legacy_checksum: r.string()?,
            description: r.string()?,
            no_transaction: r.bool()?,
        });
    }
    let n = r.len()?;
    let mut unversioned = Vec::with_capacity(n.min(r.0.len()));
    for _ in 0..n {
        unversioned.push(r.string()?);
    }
    let n = r.len()?;
    let mut unsupported = Vec::with_capacity(n.min(r.0.len()));
    for _ in 0..n {
        unsupported.push(Unsupported {
            path: r.string()?,
            file_name: r.string()?,
            version: r.opt_string()?,
            reason: r.string()?,
        });
    }
    let n = r.len()?;
    let mut missing_up = Vec::with_capacity(n.min(r.0.len()));
    for _ in 0..n {
        missing_up.push(MissingUp {
            path: r.string()?,
            line: r.opt_usize()?,
            column: r.opt_usize()?,
            message: r.string()?,
        });
    }
    Some(Discovery {
        layout,
        evidence,
        migrations,
        errors: Vec::new(),
        unversioned,
        unsupported,
        missing_up,
    })
}

fn layout_code(l: Layout) -> u8 {
    match l {
        Layout::Legacy => 0,
        Layout::Sqlx => 1,
        Layout::Dbmate => 2,
        Layout::Goose => 3,
        Layout::GolangMigrate => 4,
        Layout::Flyway => 5,
        Layout::Diesel => 6,
    }
}

/// The cache file's encoding: little-endian integers, length-prefixed bytes.
struct Enc(Vec<u8>);

impl Enc {
    fn u8(&mut self, n: u8) {
        self.0.push(n);
    }

    fn u64(&mut self, n: u64) {
        self.0.extend_from_slice(&n.to_le_bytes());
    }

    fn len(&mut self, n: usize) {
        self.u64(n as u64);
    }

    fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.0.extend_from_slice(b);
    }

    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }

    fn opt_u64(&mut self, n: Option<u64>) {
        match n {
            None => self.u8(0),
            Some(n) => {
                self.u8(1);
                self.u64(n);
            }
        }
    }
}

/// Reads what [`Enc`] wrote; `None` at the first thing out of place.
struct Dec<'a>(&'a [u8]);

impl<'a> Dec<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn bool(&mut self) -> Option<bool> {
        match self.u8()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn len(&mut self) -> Option<usize> {
        usize::try_from(self.u64()?).ok()
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.len()?;
        self.take(n)
    }

    fn str(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.bytes()?).ok()
    }

    fn string(&mut self) -> Option<String> {
        self.str().map(str::to_string)
    }

    fn opt_string(&mut self) -> Option<Option<String>> {
        match self.u8()? {
            0 => Some(None),
            1 => self.string().map(Some),
            _ => None,
        }
    }

    fn opt_usize(&mut self) -> Option<Option<usize>> {
        match self.u8()? {
            0 => Some(None),
            1 => usize::try_from(self.u64()?).ok().map(Some),
            _ => None,
        }
    }

    /// A byte range of `text` that starts and ends on character boundaries.
    fn span(&mut self, text: &str) -> Option<std::ops::Range<usize>> {
        let (start, end) = (self.len()?, self.len()?);
        text.get(start..end)?;
        Some(start..end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::{FolderEntry, discover_folder};

    fn folder(layout: LayoutSetting, files: &[(&str, &str)]) -> Discovery {
        let entries = files
            .iter()
            .map(|(n, t)| FolderEntry::File {
                name: n.to_string(),
                bytes: t.as_bytes().to_vec(),
            })
            .collect();
        let d = discover_folder("db/migrations", layout, entries);
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        d
    }

    /// Folders of every layout, with down SQL, unsupported and unversioned files, files
    /// without an Up section and non-ASCII text.
    fn folders() -> Vec<Discovery> {
        use Layout::*;
        vec![
            folder(
                LayoutSetting::Auto,
                &[
                    ("001_init.sql", "-- Create users\nCREATE TABLE u (x);\n"),
                    (
                        "002_seed.py",
                        "DESCRIPTION = 'Seed'\ndef upgrade(c): pass\n",
                    ),
                    ("003_é.sql", "-- schemagate:no-transaction\nVACUUM; -- «»\n"),
                    ("004_x.sql~", "SELECT 1;"),
                    ("notes.sql", "SELECT 1;"),
                    ("__init__.py", ""),
                ],
            ),
            folder(
                LayoutSetting::Auto,
                &[
                    (
                        "20230101000000_users.sql",
                        "-- migrate:up\nCREATE TABLE u (x);\n-- migrate:down\nDROP TABLE u;\n",
                    ),
                    ("20230102000000_none.sql", "-- migrate:down\nSELECT 1;\n"),
                ],
            ),
            folder(
                LayoutSetting::Fixed(Sqlx),
                &[
                    ("1_a.up.sql", "-- no-transaction\nCREATE TABLE a (x);"),
                    ("1_a.down.sql", "DROP TABLE a;"),
                ],
            ),
            folder(
                LayoutSetting::Auto,
                &[
                    ("V1__a.sql", "CREATE TABLE a (x);"),
                    ("V1__a.sql.conf", "executeInTransaction=false\n"),
                    ("V1.1__b.sql", "CREATE TABLE b (x);"),
                    ("U1__a.sql", "DROP TABLE a;"),
                    ("R__v.sql", "CREATE VIEW v AS SELECT 1;"),
                ],
            ),
            folder(
                LayoutSetting::Fixed(Goose),
                &[(
                    "00001_a.sql",
                    "-- +goose Up\nCREATE TABLE a (x);\n-- +goose Down\nDROP TABLE a;\n",
                )],
            ),
            folder(
                LayoutSetting::Fixed(GolangMigrate),
                &[("000001_a.up.sql", "SELECT 1;")],
            ),
            discover_folder(
                "m",
                LayoutSetting::Auto,
                vec![FolderEntry::Folder {
                    name: "2023-01-01-000000_u".into(),
                    files: vec![
                        ("up.sql".into(), b"CREATE TABLE u (x);".to_vec()),
                        ("down.sql".into(), b"DROP TABLE u;".to_vec()),
                    ],
                }],
            ),
        ]
    }

    fn key() -> Key {
        Key {
            folder: b"/srv/app/migrations".to_vec(),
            display: "db/migrations".into(),
            layout: "Auto".into(),
            version: "1.2.3".into(),
            executable: [1, 2, 3, 4],
        }
    }

    fn seen() -> Seen {
        let stamp = Stamp {
            dev: 2049,
            ino: 77,
            size: 40,
            mtime: (1_700_000_000, 5),
            ctime: (1_700_000_001, 999_999_999),
        };
        vec![
            ("001_init.sql".into(), Some(stamp)),
            ("README".into(), None),
        ]
    }

    fn encoded(d: &Discovery) -> Vec<u8> {
        let mut e = Enc(Vec::new());
        e.0.extend_from_slice(MAGIC);
        key().put(&mut e);
        put_seen(&mut e, &seen());
        put_discovery(&mut e, d);
        let seal = seal(&e.0);
        e.0.extend_from_slice(&seal);
        e.0
    }

    #[test]
    fn a_cached_discovery_is_the_discovery_it_was_made_from() {
        let layouts: Vec<Layout> = folders().iter().map(|d| d.layout).collect();
        assert_eq!(layouts.len(), Layout::ALL.len(), "one folder per layout");
        for layout in Layout::ALL {
            assert!(layouts.contains(&layout), "{layout} has no folder");
        }
        for d in folders() {
            let (back, _) = lookup(&encoded(&d), &key(), same(&seen())).unwrap();
            // Debug shows every field of every migration: equal text, equal discovery.
            assert_eq!(format!("{back:#?}"), format!("{d:#?}"));
        }
    }

    #[test]
    fn another_folder_build_or_listing_is_a_miss() {
        let bytes = encoded(&folders()[0]);
        for other in [
            Key {
                version: "1.2.4".into(),
                ..key()
            },
            Key {
                executable: [1, 2, 3, 5],
                ..key()
            },
            Key {
                folder: b"/srv/other/migrations".to_vec(),
                ..key()
            },
            Key {
                display: "migrations".into(),
                ..key()
            },
            Key {
                layout: "Fixed(Legacy)".into(),
                ..key()
            },
        ] {
            let e = lookup(&bytes, &other, same(&seen())).unwrap_err();
            assert!(e.contains("another folder"), "{e}");
        }
        let mut changed = seen();
        changed[0].1.as_mut().unwrap().ctime.1 -= 1;
        let mut added = seen();
        added.push(("002_new.sql".into(), changed[0].1));
        for other in [changed, added, seen()[..1].to_vec()] {
            let e = lookup(&bytes, &key(), same(&other)).unwrap_err();
            assert!(e.contains("since the cache was written"), "{e}");
        }
    }

    #[test]
    fn a_damaged_cache_file_is_a_miss_never_a_panic() {
        let bytes = encoded(&folders()[1]);
        for cut in 0..bytes.len() {
            assert!(lookup(&bytes[..cut], &key(), same(&seen())).is_err());
        }
        for i in 0..bytes.len() {
            for flip in [0x01, 0x80] {
                let mut bad = bytes.clone();
                bad[i] ^= flip;
                assert!(lookup(&bad, &key(), same(&seen())).is_err(), "byte {i}");
            }
        }
        let mut longer = bytes.clone();
        longer.insert(bytes.len() - SEAL_LEN, 0);
        assert!(lookup(&longer, &key(), same(&seen())).is_err());
        assert!(lookup(b"not a cache", &key(), same(&seen())).is_err());
    }

    /// A span that the digest vouches for but that splits a character is still refused:
    /// slicing the SQL there would panic.
    #[test]
    fn spans_off_character_boundaries_are_refused() {
        let mut r = Dec(&[1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(r.span("é.sql"), None);
        let mut r = Dec(&[0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(r.span("é.sql"), None);
        let mut r = Dec(&[0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(r.span("é.sql"), Some(0..2));
    }

    #[test]
    fn only_settled_stamps_are_stored() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_010);
        let stamp = |ctime: i64| Stamp {
            dev: 1,
            ino: 2,
            size: 3,
            mtime: (0, 0),
            ctime: (ctime, 0),
        };
        let seen = vec![("001_a.sql".to_string(), true)];
        let read = |ctime| vec![("001_a.sql".to_string(), stamp(ctime))];
        let stored = with_stamps(seen.clone(), read(1_700_000_009), now).unwrap();
        assert_eq!(
            stored[0].1,
            Some(stamp(1_700_000_009)),
            "the stamp taken at the read"
        );
        assert_eq!(with_stamps(seen.clone(), read(1_700_000_010), now), None);
        assert_eq!(with_stamps(seen.clone(), read(1_700_000_011), now), None);
        assert_eq!(with_stamps(seen.clone(), Vec::new(), now), None);
        let mut extra = read(1);
        extra.push(("002_b.sql".into(), stamp(1)));
        assert_eq!(with_stamps(seen, extra, now), None);
    }
}
