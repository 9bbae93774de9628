#!/bin/bash
# The compiled-model cache (src/model/image.c): a miss stores an image, a
# hit reads it, and a damaged, truncated, foreign (version, format, byte
# order) or other text's image is ignored and rewritten; outputs are byte-identical with and without the cache on every
# shipped model. Usage: model_cache.sh SIGODE SOURCE_DIR
set -euo pipefail
sigode=$1; src=$2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export SIGODE_CACHE_DIR=$work/cache SIGODE_MODEL_CACHE=1
fail() { echo "FAIL: $*"; exit 1; }
m=$src/models/examples/michaelis_menten.cfg
run() { "$sigode" run "$m" --t-end 10 --points 11 --output "$1"; }
SIGODE_MODEL_CACHE=0 run "$work/off.csv"
[ -z "$(ls "$work/cache" 2>/dev/null | grep '^model-' || true)" ] || fail "stored with SIGODE_MODEL_CACHE=0"
run "$work/miss.csv"
img=$(ls "$work/cache" | grep '^model-.*\.img$') || fail "no image stored"
run "$work/hit.csv"
cmp "$work/off.csv" "$work/miss.csv" && cmp "$work/off.csv" "$work/hit.csv" || fail "outputs differ"
# a hit does not rewrite the image
before=$(stat -c %Y.%i "$work/cache/$img"); sleep 1; run "$work/hit2.csv"
[ "$(stat -c %Y.%i "$work/cache/$img")" = "$before" ] || fail "a hit rewrote the image"
good=$work/good.img; cp "$work/cache/$img" "$good"
size=$(stat -c %s "$good")
damage() { # name, then a command that spoils $work/cache/$img
  cp "$good" "$work/cache/$img"; chmod 600 "$work/cache/$img"; eval "$2"
  run "$work/$1.csv" || fail "$1: run failed"
  cmp "$work/off.csv" "$work/$1.csv" || fail "$1: output differs"
  cmp -s "$good" "$work/cache/$img" || fail "$1: image not rewritten"
}
damage flip 'printf "\xff" | dd of="$work/cache/$img" bs=1 seek=$((size - 40)) conv=notrunc status=none'
damage truncated 'truncate -s $((size - 100)) "$work/cache/$img"'
damage extended 'printf x >> "$work/cache/$img"'
damage version 'printf "9.9.9 XXXX" | dd of="$work/cache/$img" bs=1 seek=24 conv=notrunc status=none'
damage order 'printf "\x01\x02\x03\x04" | dd of="$work/cache/$img" bs=1 seek=8 conv=notrunc status=none'
damage empty ': > "$work/cache/$img"'
damage format 'printf "\x09" | dd of="$work/cache/$img" bs=1 seek=12 conv=notrunc status=none'
# the image keeps no copy of the text, only its length and a hash: the
# image of another text of the same length, put under this text's name
# (as if the two keys collided), is ignored for the hash in its header
other=$work/other.cfg; sed 's/id = "kcat"; value = 0.5;/id = "kcat"; value = 0.7;/' "$m" > "$other"
[ "$(stat -c %s "$other")" = "$(stat -c %s "$m")" ] && ! cmp -s "$m" "$other" || fail "other text"
"$sigode" run "$other" --t-end 10 --points 11 --output "$work/other.csv"
oimg=$(ls "$work/cache" | grep '^model-.*\.img$' | grep -v "^$img\$") || fail "no image for the other text"
damage other_text 'cp "$work/cache/$oimg" "$work/cache/$img"'
"$sigode" run "$other" --t-end 10 --points 11 --output "$work/other2.csv"
cmp -s "$work/other.csv" "$work/other2.csv" && ! cmp -s "$work/off.csv" "$work/other.csv" ||
  fail "the other text's output"
# an image writable by others is never read (and the run still works)
cp "$good" "$work/cache/$img"; chmod 666 "$work/cache/$img"
printf "\xff" | dd of="$work/cache/$img" bs=1 seek=$((size - 40)) conv=notrunc status=none
run "$work/unsafe.csv"; cmp "$work/off.csv" "$work/unsafe.csv" || fail "unsafe image used"
# a cache folder others can write is not used
rm -rf "$work/cache"; mkdir -m 777 "$work/cache"
run "$work/unsafe_dir.csv"; cmp "$work/off.csv" "$work/unsafe_dir.csv" || fail "unsafe folder"
[ -z "$(ls "$work/cache" | grep '^model-' || true)" ] || fail "stored into an unsafe folder"
rm -rf "$work/cache"
# every shipped model: off, miss and hit give the same bytes
for f in "$src"/models/*.cfg "$src"/models/examples/*.cfg; do
  for mode in 0 1 1; do
    SIGODE_MODEL_CACHE=$mode "$sigode" run "$f" --points 5 --output "$work/out-$mode.csv" >/dev/null 2>&1 || echo "exit $?" >> "$work/out-$mode.csv"
    [ $mode = 0 ] || cmp -s "$work/out-0.csv" "$work/out-1.csv" || fail "$f: output differs with the cache"
  done
done
# delay(x, tau): the image keeps the delays (which slots, which nodes), so
# a hit reads the same history as a fresh compile
cat > "$work/dde.cfg" <<'EOF'
name = "dde";
parameters = ( { id = "k"; value = 0.5; }, { id = "tau"; value = 1.0; } );
species = ( { id = "x"; initial = 1.0; } );
assignments = ( { id = "xd"; value = "delay(x, tau)"; } );
reactions = ( { id = "loss"; equation = "x ->"; rate = "k * delay(x, tau)"; } );
EOF
for mode in 0 1 1; do
  SIGODE_MODEL_CACHE=$mode "$sigode" run "$work/dde.cfg" --t-end 3 --points 13 --output "$work/dde-$mode.csv"
  [ $mode = 0 ] || cmp -s "$work/dde-0.csv" "$work/dde-1.csv" || fail "delay model: output differs with the cache"
done
echo "model cache: all checks passed"
