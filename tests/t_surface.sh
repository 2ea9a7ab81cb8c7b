#!/bin/sh
# Public-surface tests (STYLE.md 5): every public header compiles alone as
# C11 and as C++; the shared library exports exactly the opes_* functions the
# headers declare, under a versioned soname; make install / uninstall; and an
# out-of-tree program builds with pkg-config (shared and --static) and runs.
# Env: B (build dir), CC, ZLIB. Prints "N passed, N failed".
B=${B:-build}; CC=${CC:-cc}; ZLIB=${ZLIB:-0}
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
CXX=""
for c in c++ g++ clang++; do command -v $c >/dev/null 2>&1 && { CXX=$c; break; }; done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# 1. headers alone, C11 and C++
for h in include/opes/*.h; do
    n=$(basename "$h")
    printf '#include <opes/%s>\nint main(void){return 0;}\n' "$n" > "$tmp/h.c"
    if $CC -std=c11 -Wall -Wextra -Wpedantic -Werror -Iinclude -c "$tmp/h.c" -o "$tmp/h.o" 2>"$tmp/err"; then ok; else bad "$n alone as C11"; cat "$tmp/err"; fi
    if [ -n "$CXX" ]; then
        printf '#include <opes/%s>\nint main(){return 0;}\n' "$n" > "$tmp/h.cc"
        if $CXX -std=c++11 -Wall -Wextra -Wpedantic -Werror -Iinclude -c "$tmp/h.cc" -o "$tmp/h.o" 2>"$tmp/err"; then ok; else bad "$n alone as C++"; cat "$tmp/err"; fi
    fi
done

# 2. exported symbols == functions declared OPES_API, all opes_, none opes__
so=$(ls "$B"/libopes.so.*.*.* | head -n 1)
nm -D --defined-only "$so" | awk '$2 ~ /^[TDBR]$/ {print $3}' | sed 's/@.*//' | sort > "$tmp/exported"
cat include/opes/*.h | tr '\n' ' ' | sed 's/;/;\n/g' | grep 'OPES_API' | \
    sed -n 's/.*[ *]\(opes_[a-z0-9_]*\)[ ]*(.*/\1/p' | sort -u > "$tmp/declared"
if [ -s "$tmp/exported" ] && ! grep -qv '^opes_' "$tmp/exported"; then ok; else bad "non-opes_ symbols exported:"; grep -v '^opes_' "$tmp/exported"; fi
if ! grep -q '^opes__' "$tmp/exported"; then ok; else bad "internal opes__ symbols exported"; fi
if diff "$tmp/declared" "$tmp/exported" >"$tmp/diff"; then ok; else bad "exports differ from declarations (< declared only, > exported only):"; cat "$tmp/diff"; fi
soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
if [ "$soname" = "libopes.so.0" ]; then ok; else bad "soname is '$soname'"; fi

# 3. install into a prefix, and into a DESTDIR staging tree
make -s install PREFIX="$tmp/prefix" BUILD="$B" >/dev/null 2>"$tmp/err" && ok || { bad "make install"; cat "$tmp/err"; }
for f in include/opes/opes.h lib/libopes.a lib/libopes.so lib/libopes.so.0 lib/pkgconfig/libopes.pc bin/opes; do
    [ -e "$tmp/prefix/$f" ] && ok || bad "installed $f missing"
done
make -s install PREFIX=/usr/local DESTDIR="$tmp/stage" BUILD="$B" >/dev/null 2>&1 && \
    [ -f "$tmp/stage/usr/local/lib/pkgconfig/libopes.pc" ] && \
    grep -q '^prefix=/usr/local$' "$tmp/stage/usr/local/lib/pkgconfig/libopes.pc" && ok || bad "DESTDIR install"

# 4. an out-of-tree consumer through pkg-config
cat > "$tmp/consumer.c" <<'C'
#include <opes/opes.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    opes_smtp_config *cfg = NULL;
    char out[64];
    size_t n = 0;
    if (opes_version() != OPES_VERSION_NUM) return 1;
    if (opes_smtp_config_new(&cfg, NULL) != OPES_OK) return 2;
    if (opes_smtp_config_offer(cfg, "DSN", 1, NULL) != OPES_OK) return 3;
    if (opes_smtp_config_line_limit(cfg, OPES_VERB_RCPT) != 1036) return 4;
    opes_smtp_config_free(cfg);
    if (opes_xtext_encode(out, sizeof out, &n, "a=b", 3) != OPES_OK) return 5;
    printf("%s %.*s\n", opes_version_str(), (int)n, out);
    return strcmp(opes_strerror(OPES_ESYNTAX), "unknown error") == 0;
}
C
if command -v pkg-config >/dev/null 2>&1; then
    export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
    if $CC -std=c11 $(pkg-config --cflags libopes) "$tmp/consumer.c" -o "$tmp/consumer" $(pkg-config --libs libopes) 2>"$tmp/err"; then
        ok
        out=$(LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/consumer") && [ "$out" = "0.1.0 a+3Db" ] && ok || bad "shared consumer ran: '$out'"
        readelf -d "$tmp/consumer" | grep -q 'NEEDED.*libopes.so.0' && ok || bad "consumer does not need libopes.so.0"
    else bad "shared consumer build"; cat "$tmp/err"; fi
    if $CC -std=c11 -static $(pkg-config --cflags libopes) "$tmp/consumer.c" -o "$tmp/consumer-static" $(pkg-config --static --libs libopes) 2>"$tmp/err"; then
        ok
        out=$("$tmp/consumer-static") && [ "$out" = "0.1.0 a+3Db" ] && ok || bad "static consumer ran: '$out'"
        readelf -d "$tmp/consumer-static" 2>/dev/null | grep -q 'libopes' && bad "static consumer needs libopes.so" || ok
    else bad "static consumer build"; cat "$tmp/err"; fi
    if [ "$ZLIB" = "1" ]; then
        pkg-config --static --libs libopes | grep -q -- '-lz' && ok || bad "zlib build: Libs.private lacks -lz"
    else
        pkg-config --static --libs libopes | grep -q -- '-lz' && bad "no-zlib build lists -lz" || ok
    fi
else
    bad "pkg-config is not installed (make check installs it: tools/deps.sh)"
fi

# 5. uninstall removes exactly what install put there
make -s uninstall PREFIX="$tmp/prefix" BUILD="$B" >/dev/null 2>&1
left=$(find "$tmp/prefix" -type f -o -type l 2>/dev/null)
[ -z "$left" ] && ok || { bad "uninstall left files:"; echo "$left"; }

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
