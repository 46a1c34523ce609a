#!/usr/bin/env python3
"""House rule from STYLE.md ("The house"): a header may include headers of its own layer or of
lower layers, never of a higher one, so each layer builds and tests without the ones above it.

Usage: scripts/check_layers.py [include_dir]   (default: include/omni next to this script)
Exit 0 when clean, 1 with one line per offending include otherwise.
"""
import re
import sys
from pathlib import Path

# Low to high. A new layer directory must be added here, which forces a decision on its place.
LAYERS = ["core", "tensor", "policy", "backend", "autodiff", "ops", "nn", "loss", "optim",
          "data", "io", "models", "train", "report"]
RANK = {name: i for i, name in enumerate(LAYERS)}
UMBRELLA = "omni.hpp"  # includes everything; exempt as a source, forbidden as a target
HEADER_SUFFIXES = {".hpp", ".h", ".cuh", ".inl"}
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]omni/([^">]+)[">]')


def check(root: Path) -> list[str]:
    # Every directory counts, even an empty one, so a new layer is placed before it grows.
    errors = [f"{d}: unknown layer '{d.name}' (add it to LAYERS in {Path(__file__).name})"
              for d in sorted(root.iterdir()) if d.is_dir() and d.name not in RANK]
    for path in sorted(p for p in root.rglob("*") if p.suffix in HEADER_SUFFIXES):
        rel = path.relative_to(root)
        if len(rel.parts) == 1:  # the umbrella and any other top-level header
            continue
        src = rel.parts[0]
        if src not in RANK:
            continue  # reported once for its directory above
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            target = m.group(1)
            dst = target.split("/")[0]
            where = f"{path}:{lineno}"
            if target == UMBRELLA:
                errors.append(f"{where}: {src} -> omni/{UMBRELLA} (library headers include what they use)")
            elif dst not in RANK:
                errors.append(f"{where}: includes omni/{target} from unknown layer '{dst}'")
            elif RANK[dst] > RANK[src]:
                errors.append(f"{where}: {src} -> {dst} (omni/{target}) includes a higher layer")
    return errors


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "include" / "omni"
    if not root.is_dir():
        print(f"check_layers: no directory {root}", file=sys.stderr)
        return 1
    errors = check(root)
    for e in errors:
        print(e)
    if errors:
        print(f"check_layers: {len(errors)} violation(s); order is {' < '.join(LAYERS)}")
        return 1
    print(f"check_layers: ok ({' < '.join(LAYERS)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
