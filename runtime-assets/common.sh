# Helpers shared by runtime-assets/build.sh and runtime-assets/numpy/build.sh (sourced).
# The caller defines log and die, and sets DL (the download cache) and SCRIPT (its name in
# messages).

# Run a noisy command with its output in a log file; on failure show the tail.
run_logged() {
    local logfile=$1; shift
    printf '+ %s\n' "$*" >>"$logfile"
    if ! "$@" >>"$logfile" 2>&1; then
        printf '%s: error: command failed: %s\n--- last lines of %s ---\n' \
            "$SCRIPT" "$*" "$logfile" >&2
        tail -n 60 "$logfile" >&2
        exit 1
    fi
}

# Download into the cache (once) and verify the pinned SHA-256 (always).
fetch() {
    local url=$1 sha=$2 file="$DL/${1##*/}"
    if [[ ! -f $file ]]; then
        log "downloading $url"
        curl -fsSL --retry 3 -o "$file.part" "$url" ||
            die "download failed: $url (a superseded Debian pool file? see the pins.env beside $SCRIPT)"
        mv "$file.part" "$file"
    fi
    local got
    got=$(sha256sum "$file" | cut -d' ' -f1)
    if [[ $got != "$sha" ]]; then
        mv "$file" "$file.bad"
        die "SHA-256 mismatch for $url: expected $sha, got $got (moved to $file.bad)"
    fi
    printf '%s\n' "$file"
}
