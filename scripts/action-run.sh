#!/usr/bin/env bash
# The install-and-run step of the schemagate GitHub Action (action.yml).
#
# Installs schemagate, a prebuilt release archive for this runner's OS and architecture
# verified against its published SHA-256, or, when no release matches (or
# SCHEMAGATE_ACTION_FORCE_BUILD=1), a `cargo build` of the action's own checkout, then runs
# `schemagate check` with the action's inputs. The inputs arrive as environment variables
# (never pasted into this script by the workflow), so their content is data, not code.
#
# Inputs (all optional): INPUT_MIGRATIONS_DIR, INPUT_DATABASE, INPUT_BASE_REF,
# INPUT_FAIL_ON, INPUT_COMMENT, INPUT_SARIF_FILE, INPUT_ARGS, INPUT_WORKING_DIRECTORY,
# INPUT_VERSION. Context: SCHEMAGATE_ACTION_REF, SCHEMAGATE_ACTION_REPOSITORY,
# MERGE_GROUP_BASE_REF, GITHUB_BASE_REF, GITHUB_SERVER_URL, RUNNER_TEMP.
# For tests: SCHEMAGATE_RELEASE_BASE_URL (where archives are downloaded from),
# SCHEMAGATE_ACTION_PROFILE (cargo profile of the build fallback, default release),
# SCHEMAGATE_ACTION_CARGO_FLAGS (extra flags for that build).
set -euo pipefail

action_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work_dir="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/schemagate-action"
mkdir -p "$work_dir"

log() { printf 'schemagate-action: %s\n' "$*" >&2; }
die() { printf '::error title=schemagate action::%s\n' "$*" >&2; exit 2; }

# --- Which version ------------------------------------------------------------------------
# An explicit `version` input, else the tag the action was used at (`uses: o/r@v1.2.3`).
# A branch, a commit or `uses: ./` has no release: build from the checkout.
version="${INPUT_VERSION:-}"
if [ -z "$version" ]; then
    case "${SCHEMAGATE_ACTION_REF:-}" in
        v[0-9]*.*) version="$SCHEMAGATE_ACTION_REF" ;;
    esac
fi
case "$version" in
    '' | v*) ;;
    [0-9]*) version="v$version" ;;
esac

target=""
exe="schemagate"
ext="tar.gz"
case "$(uname -s)/$(uname -m)" in
    Linux/x86_64 | Linux/amd64) target="x86_64-unknown-linux-musl" ;;
    Linux/aarch64 | Linux/arm64) target="aarch64-unknown-linux-musl" ;;
    Darwin/x86_64) target="x86_64-apple-darwin" ;;
    Darwin/arm64 | Darwin/aarch64) target="aarch64-apple-darwin" ;;
    MINGW*/x86_64 | MSYS*/x86_64 | CYGWIN*/x86_64)
        target="x86_64-pc-windows-msvc"
        exe="schemagate.exe"
        ext="zip"
        ;;
esac

sha256_of() {
    if command -v sha256sum >/dev/null; then
        sha256sum "$1" | cut -d' ' -f1
    else
        shasum -a 256 "$1" | cut -d' ' -f1
    fi
}

# Downloads and verifies the release archive; prints the binary's path. Returns 1 when
# there is no such release (then we build), exits 2 when the checksum does not match
# (a tampered or corrupt download must never run).
install_release() {
    local name="schemagate-${version}-${target}.${ext}"
    local base="${SCHEMAGATE_RELEASE_BASE_URL:-${GITHUB_SERVER_URL:-https://github.com}/${SCHEMAGATE_ACTION_REPOSITORY:-schemagate/schemagate}/releases/download/${version}}"
    local dir="$work_dir/$version-$target"
    rm -rf "$dir" && mkdir -p "$dir"
    log "downloading $base/$name"
    curl --fail --silent --show-error --location --retry 3 -o "$dir/$name" "$base/$name" || return 1
    curl --fail --silent --show-error --location --retry 3 -o "$dir/$name.sha256" "$base/$name.sha256" ||
        die "the release $version has $name but no $name.sha256: refusing to run an unverified binary"
    local want got
    want=$(cut -d' ' -f1 <"$dir/$name.sha256" | tr -d '\r\n' | tr 'A-F' 'a-f')
    got=$(sha256_of "$dir/$name")
    if [ -z "$want" ] || [ "$want" != "$got" ]; then
        die "checksum mismatch for $name: expected ${want:-nothing}, got $got (download corrupt or tampered with)"
    fi
    log "verified sha256 $got"
    if [ "$ext" = zip ]; then
        unzip -q -o "$dir/$name" -d "$dir"
    else
        tar -xzf "$dir/$name" -C "$dir"
    fi
    [ -f "$dir/$exe" ] || die "$name does not contain $exe"
    chmod +x "$dir/$exe"
    printf '%s\n' "$dir/$exe"
}

build_from_source() {
    local profile="${SCHEMAGATE_ACTION_PROFILE:-release}"
    local target_dir="${CARGO_TARGET_DIR:-$action_dir/target}"
    local out_dir="$profile"
    case "$profile" in dev | test) out_dir=debug ;; bench) out_dir=release ;; esac
    command -v cargo >/dev/null ||
        die "no prebuilt schemagate for this runner and no cargo to build one: set the 'version' input to a release, or install Rust first"
    local flags=()
    [ -z "${SCHEMAGATE_ACTION_CARGO_FLAGS:-}" ] || read -r -a flags <<<"$SCHEMAGATE_ACTION_CARGO_FLAGS"
    log "building schemagate from $action_dir (cargo build --profile $profile)"
    cargo build --quiet --locked --profile "$profile" --manifest-path "$action_dir/Cargo.toml" \
        --target-dir "$target_dir" --bin schemagate ${flags[@]+"${flags[@]}"} >&2
    local bin="$target_dir/$out_dir/$exe"
    [ -x "$bin" ] || die "cargo build did not produce $bin"
    printf '%s\n' "$bin"
}

bin=""
if [ "${SCHEMAGATE_ACTION_FORCE_BUILD:-}" != 1 ] && [ -n "$version" ] && [ -n "$target" ]; then
    bin=$(install_release) || {
        status=$?
        # `die` inside the subshell already printed why; a missing release is not fatal.
        [ "$status" -eq 1 ] || exit "$status"
        log "no release archive for $version on $target: building from source"
        bin=""
    }
fi
[ -n "$bin" ] || bin=$(build_from_source)
"$bin" --version >&2

# --- Run check ----------------------------------------------------------------------------
cd "${INPUT_WORKING_DIRECTORY:-.}" || die "working-directory '${INPUT_WORKING_DIRECTORY:-}' does not exist"

args=(check)
[ -z "${INPUT_MIGRATIONS_DIR:-}" ] || args+=(--dir "$INPUT_MIGRATIONS_DIR")
[ -z "${INPUT_DATABASE:-}" ] || args+=(--db "$INPUT_DATABASE")

# The base branch: the input, else the pull request's or the merge group's target branch.
base="${INPUT_BASE_REF:-}"
if [ -z "$base" ]; then
    if [ -n "${GITHUB_BASE_REF:-}" ]; then
        base="origin/$GITHUB_BASE_REF"
    elif [ -n "${MERGE_GROUP_BASE_REF:-}" ]; then
        base="origin/${MERGE_GROUP_BASE_REF#refs/heads/}"
    fi
fi
if [ -n "$base" ]; then
    # A shallow checkout lacks the base branch: fetch it (best effort; `check` reports a
    # missing base clearly if this did not help).
    if ! git rev-parse --verify --quiet "$base^{commit}" >/dev/null 2>&1; then
        case "$base" in
            origin/*)
                branch="${base#origin/}"
                log "fetching $branch from origin"
                git fetch --quiet --no-tags --depth=1 origin \
                    "+refs/heads/$branch:refs/remotes/origin/$branch" >&2 || true
                ;;
        esac
    fi
    args+=(--base "$base")
fi
[ -z "${INPUT_FAIL_ON:-}" ] || args+=(--fail-on "$INPUT_FAIL_ON")
case "${INPUT_COMMENT:-false}" in
    true | TRUE | True | 1 | yes) args+=(--comment) ;;
esac
[ -z "${INPUT_SARIF_FILE:-}" ] || args+=(--sarif-file "$INPUT_SARIF_FILE")
# Extra arguments are split on whitespace only: no globbing, no quotes, no expansion.
extra=()
if [ -n "${INPUT_ARGS:-}" ]; then
    set -f
    read -r -a extra <<<"$INPUT_ARGS"
    set +f
fi

log "running: schemagate ${args[*]} ${extra[*]:-}"
status=0
"$bin" "${args[@]}" ${extra[@]+"${extra[@]}"} || status=$?
exit "$status"
