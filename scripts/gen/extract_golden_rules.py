#!/usr/bin/env python3
"""Extract the English Golden Rules (Pragmatic Segmenter) from the pysbd 0.3.3 sdist.

Usage:
    pip download --no-deps --no-binary :all: pysbd==0.3.3 -d /tmp/pysbd
    tar xzf /tmp/pysbd/pysbd-0.3.3.tar.gz -C /tmp/pysbd
    python3 scripts/gen/extract_golden_rules.py \
        /tmp/pysbd/pysbd-0.3.3/benchmarks/english_golden_rules.py \
        fixtures/golden_rules_en.json
"""
import ast
import json
import sys


def main() -> None:
    src_path = sys.argv[1]
    out_path = sys.argv[2] if len(sys.argv) > 2 else "fixtures/golden_rules_en.json"
    with open(src_path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), filename=src_path)
    rules = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "GOLDEN_EN_RULES" for t in node.targets
        ):
            rules = ast.literal_eval(node.value)
    if rules is None:
        sys.exit("GOLDEN_EN_RULES not found")
    cases = [{"text": text, "sentences": list(sents)} for text, sents in rules]
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False, indent=2)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {out_path}")


if __name__ == "__main__":
    main()
