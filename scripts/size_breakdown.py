#!/usr/bin/env python3
"""What a function binary holds, per crate: the `.text` bytes of its symbols, grouped by crate,
largest first. `scripts/bench.sh size` runs it on the largest Lambda binary; it needs the binary
unstripped (the bench builds it so and strips a copy for the package).

It groups as `cargo bloat --crates` does, without cargo-bloat's own build (which cannot link for
aarch64 here, where cargo-lambda links with zig): a symbol belongs to the crate whose rlib (in
`--deps`, or the target's standard library) lists it, which puts a generic function with the crate
that instantiated it (`miniserde::json::from_str::<stripe_shared::Error>` with `stripe_shared`).
A symbol no rlib lists goes by the crate its demangled path starts with (for `<T as Trait>`, the
trait's crate); C code is `aws_lc_sys` (AWS-LC prefixes its symbols) or `[C]`. The standard library
is one row, `std`. Sizes are of symbols, so the rows add up to a little less than `.text`.

usage: size_breakdown.py BINARY [--deps TARGET/TRIPLE/release/deps] [--target TRIPLE] [--rows N]
"""

import argparse
import collections
import pathlib
import re
import struct
import subprocess
import sys

# The standard library and what it links for itself, shown as one row as cargo-bloat does.
STD = {
    "std", "core", "alloc", "std_detect", "compiler_builtins", "panic_abort", "panic_unwind",
    "rustc_demangle", "addr2line", "gimli", "miniz_oxide", "object", "adler2", "unwind",
}
PREFIX = re.compile(r"^(?:[<&\[(]|mut |\*const |\*mut |dyn )+")
TRAIT = re.compile(r" as ([A-Za-z_][A-Za-z0-9_]*)::")
RLIB = re.compile(r"^lib(.+?)-[0-9a-f]+\.rlib$")


def armap(rlib: pathlib.Path) -> list[bytes]:
    """The symbol names of an ar archive's index (GNU `/` or `/SYM64/`), as rustc writes rlibs."""
    with rlib.open("rb") as f:
        if f.read(8) != b"!<arch>\n":
            return []
        header = f.read(60)
        name, size = header[:16].strip(), int(header[48:58])
        if name not in (b"/", b"/SYM64/"):
            return []
        data = f.read(size)
    width = 8 if name == b"/SYM64/" else 4
    (count,) = struct.unpack(">Q" if width == 8 else ">I", data[:width])
    names = data[width * (count + 1) :].split(b"\0")
    return names[:count]


def owners(deps: pathlib.Path | None, target: str | None) -> dict[bytes, str]:
    """Which crate's rlib lists each symbol: the dependencies, then the standard library."""
    dirs = [deps] if deps else []
    if target:
        sysroot = subprocess.run(["rustc", "--print", "sysroot"], capture_output=True, text=True, check=True)
        dirs.append(pathlib.Path(sysroot.stdout.strip()) / "lib" / "rustlib" / target / "lib")
    found: dict[bytes, str] = {}
    for directory in dirs:
        for rlib in sorted(directory.glob("*.rlib")):
            match = RLIB.match(rlib.name)
            if match:
                crate = "std" if match.group(1) in STD else match.group(1)
                for symbol in armap(rlib):
                    found.setdefault(symbol, crate)
    return found


def crate_of(symbol: str) -> str:
    path = PREFIX.sub("", symbol)
    generic = re.match(r"^[A-Za-z_][A-Za-z0-9_]* as ", path)
    if generic:
        # `<T as Trait>::f`, the `<` gone: the trait's path says whose it is.
        path = path[generic.end() :]
    if "::" not in path:
        # Not a Rust path: C (AWS-LC's symbols carry its prefix) or the linker's own.
        return "aws_lc_sys" if symbol.startswith("aws_lc_") else "[C]"
    first = re.split(r"::|<", path, maxsplit=1)[0].strip() or "[C]"
    if first in STD:
        trait = TRAIT.search(symbol)
        if trait and trait.group(1) not in STD:
            return trait.group(1)
        return "std"
    return first


def text_size(binary: str) -> int:
    out = subprocess.run(["size", "-A", binary], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] == ".text":
            return int(parts[1])
    sys.exit(f"size_breakdown: {binary} has no .text section")


def symbols(binary: str, demangle: bool) -> list[list[str]]:
    """`nm`'s defined symbols in file order: address, size, type, name."""
    args = ["nm", "--defined-only", "--print-size", "--no-sort"] + (["--demangle"] if demangle else [])
    out = subprocess.run([*args, binary], capture_output=True, text=True, check=True).stdout
    return [line.split(None, 3) for line in out.splitlines()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binary")
    parser.add_argument("--deps", type=pathlib.Path, help="the build's deps directory, with its rlibs")
    parser.add_argument("--target", help="the target triple, for the standard library's rlibs")
    parser.add_argument("--rows", type=int, default=20)
    args = parser.parse_args()
    binary, rows = args.binary, args.rows
    found = owners(args.deps, args.target)
    sizes: collections.Counter[str] = collections.Counter()
    for raw, shown in zip(symbols(binary, False), symbols(binary, True), strict=True):
        if len(raw) == 4 and raw[2] in ("t", "T", "w", "W"):
            crate = found.get(raw[3].encode()) or crate_of(shown[3])
            sizes[crate] += int(raw[1], 16)
    if not sizes:
        sys.exit(f"size_breakdown: {binary} has no symbols (stripped?)")
    text = text_size(binary)
    kib = lambda n: f"{n / 1024:9.1f} KiB"  # noqa: E731
    print(f"  {'.text':>13}  {'share':>6}  crate")
    for crate, size in sizes.most_common(rows):
        print(f"  {kib(size)}  {100 * size / text:5.1f}%  {crate}")
    rest = sizes.most_common()[rows:]
    if rest:
        size = sum(s for _, s in rest)
        print(f"  {kib(size)}  {100 * size / text:5.1f}%  {len(rest)} more crates")
    print(f"  {kib(text)}  100.0%  .text of {binary.rsplit('/', 1)[-1]}")


if __name__ == "__main__":
    main()
