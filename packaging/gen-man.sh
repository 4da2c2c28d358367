#!/usr/bin/env bash
# Writes a man page (roff, section 1) for an ArgumentParser program from its --help
# texts: the command's own, then one for each subcommand, so the page says exactly
# what --help says. Usage: gen-man.sh PROGRAM VERSION DATE >program.1
set -euo pipefail

die() { echo "gen-man.sh: $*" >&2; exit 1; }
(($# == 3)) || die "usage: gen-man.sh PROGRAM VERSION DATE"
prog=$1 version=$2 date=$3
name=${prog##*/}
[[ -x $prog ]] || die "$prog is not an executable"

# roff: ArgumentParser help text on stdin -> sections on stdout. $1 is the heading
# level for the text's own parts: SH for the command, SS for a subcommand.
to_roff() {
    awk -v level="$1" -v title="$2" '
    function esc(s) { gsub(/\\/, "\\e", s); sub(/^[.\x27]/, "\\\\&&", s); return s }
    function opt(s) { s = esc(s); gsub(/-/, "\\-", s); return s }
    BEGIN { part = "" }
    /^OVERVIEW: / {
        part = "overview"; sub(/^OVERVIEW: /, "")
        if (level == "SS") print ".SS \"" title "\""
        else print ".SH DESCRIPTION"
        print esc($0); next
    }
    /^USAGE: / { part = "usage"; sub(/^USAGE: /, ""); print ".PP\n.B Usage:"; print ".br\n" opt($0); next }
    /^[A-Z][A-Z ]*:$/ {
        part = "list"; h = substr($0, 1, length($0) - 1)
        if (level == "SH") print ".SH " h; else print ".PP\n.I " tolower(h) ":"
        next
    }
    /^$/ { if (part == "overview") print ".PP"; next }
    part == "list" && /^  See / { next }
    part == "list" && /^  [^ ]/ {
        line = substr($0, 3)
        if (match(line, /  +/)) { term = substr(line, 1, RSTART - 1); desc = substr(line, RSTART + RLENGTH) }
        else { term = line; desc = "" }
        print ".TP\n.B " opt(term)
        if (desc != "") print esc(desc)
        next
    }
    part == "list" { sub(/^ +/, ""); print esc($0); next }
    { print esc($0) }
    '
}

help=$("$prog" --help) || die "$prog --help failed"
overview=$(sed -n 's/^OVERVIEW: //p' <<<"$help")
printf '.TH %s 1 "%s" "accord %s" "User Commands"\n' "${name^^}" "$date" "$version"
printf '.SH NAME\n%s \\- %s\n' "$name" "$(sed 's/\\/\\e/g; s/\.$//' <<<"${overview%%.*}")"
printf '.SH SYNOPSIS\n.B %s\n' "$(sed -n 's/^USAGE: //p' <<<"$help" | sed 's/-/\\-/g')"
to_roff SH "$name" <<<"$help"

# Subcommands: names in the SUBCOMMANDS: list ("serve (default)" is serve).
subs=$(awk '/^SUBCOMMANDS:$/ { on = 1; next } /^[A-Z][A-Z ]*:$/ { on = 0 } on && /^  [a-z]/ { print $1 }' <<<"$help")
if [[ -n $subs ]]; then
    echo ".SH COMMANDS"
    for sub in $subs; do
        "$prog" help "$sub" | to_roff SS "$name $sub" || die "$prog help $sub failed"
    done
fi
printf '.SH "SEE ALSO"\n.BR accordd (1),\n.BR accordctl (1),\n.BR accordhub (1),\n/usr/share/doc/accord/README.md.gz\n'
