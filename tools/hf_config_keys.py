#!/usr/bin/env python3
"""Lists the config.json keys of HuggingFace transformers' configuration class per model_type.

Writes src/test/resources/hf-config-keys.json, which ConfigKeysTest walks: every key listed there for a
model_type must be classified by that family's ConfigKeys (read, ignored with a reason, or accepted only
at the values depthlens implements), so a key HF's class has cannot slip by unclassified.

Input: a folder holding the text of HF's configuration_*.py files (and configuration_utils.py for the
keys every PreTrainedConfig accepts). They were read from the public huggingface/transformers repository
with the project's code-search tool (read_file) at the commits in SOURCES and saved as text; the class
bodies are all this script needs. Nothing is downloaded here and no HF code is kept in the project.

A key is: an annotated class field (v5 dataclass style, `name: type = default`), an `__init__` parameter
(4.x style), an attribute the class sets (`self.name = ...`, public names only), either side of
`attribute_map` (an alias and the attribute it names), or a kwarg the class pops or reads (`kwargs.pop("name"`, `kwargs.get("name"`).

Usage: python3 tools/hf_config_keys.py SRC_DIR > src/test/resources/hf-config-keys.json
"""
import ast
import json
import os
import re
import sys

REPO = "huggingface/transformers"
V5 = "008e574391258935f3ecc3035c882e73bbcac419"
SOURCES = {
    "configuration_utils.py": ("src/transformers/configuration_utils.py", V5),
    "configuration_llama.py": ("src/transformers/models/llama/configuration_llama.py", V5),
    "configuration_mistral.py": ("src/transformers/models/mistral/configuration_mistral.py", V5),
    "configuration_mixtral.py": ("src/transformers/models/mixtral/configuration_mixtral.py", V5),
    "configuration_qwen2.py": ("src/transformers/models/qwen2/configuration_qwen2.py", V5),
    "configuration_qwen3.py": ("src/transformers/models/qwen3/configuration_qwen3.py", V5),
    "configuration_qwen2_moe.py": ("src/transformers/models/qwen2_moe/configuration_qwen2_moe.py", V5),
    "configuration_qwen3_moe.py": ("src/transformers/models/qwen3_moe/configuration_qwen3_moe.py", V5),
    "configuration_deepseek_v2.py": ("src/transformers/models/deepseek_v2/configuration_deepseek_v2.py", V5),
    "configuration_deepseek_v3.py": ("src/transformers/models/deepseek_v3/configuration_deepseek_v3.py", V5),
    "configuration_gemma2.py": ("src/transformers/models/gemma2/configuration_gemma2.py", V5),
    # the only stored version of gemma3's file is the 4.5x one (__init__ parameters, rope_theta/rope_scaling)
    "configuration_gemma3.py": ("src/transformers/models/gemma3/configuration_gemma3.py",
                                "d98ac17cc00f337eeee9a1e2380072dc8cafabd4"),
    "configuration_olmo.py": ("src/transformers/models/olmo/configuration_olmo.py", V5),
    "configuration_olmo2.py": ("src/transformers/models/olmo2/configuration_olmo2.py", V5),
    "configuration_gpt_neox.py": ("src/transformers/models/gpt_neox/configuration_gpt_neox.py", V5),
    "configuration_phi3.py": ("src/transformers/models/phi3/configuration_phi3.py", V5),
}

FIELD = re.compile(r"^    ([A-Za-z]\w*)\s*:\s*(.+?)(?:\s=\s(.+))?$")
INIT_PARAM = re.compile(r"^        ([A-Za-z]\w*)\s*(?::[^=]+)?=\s*(.+?),?$")
SELF_SET = re.compile(r"self\.([A-Za-z]\w*)\s*(?::[^=]+)?=(?!=)")
KWARG = re.compile(r"kwargs\.(?:pop|get)\(\s*\"(\w+)\"|\"(\w+)\" in kwargs")
ALIAS = re.compile(r"\"(\w+)\"\s*:\s*\"(\w+)\"")


def literal(text):
    """The default as JSON when it is a literal (or literal arithmetic), else None."""
    try:
        node = ast.parse(text.strip().rstrip(","), mode="eval").body
        return _eval(node)
    except (SyntaxError, ValueError):
        return None


def _eval(node):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Add)):
        a, b = _eval(node.left), _eval(node.right)
        return a * b if isinstance(node.op, ast.Mult) else a + b
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_eval(node.operand)
    raise ValueError("not a literal")


def classes(text):
    """(name, body) of each top-level class."""
    parts = re.split(r"^class (\w+)\(.*$", text, flags=re.M)
    return [(parts[i], parts[i + 1]) for i in range(1, len(parts), 2)]


def keys_of(body):
    keys, defaults = set(), {}
    in_init = False
    for line in body.splitlines():
        if line.startswith("    def __init__("):
            in_init = True
            continue
        if in_init:
            if line.startswith("    ):") or line.startswith("    )"):
                in_init = False
                continue
            m = INIT_PARAM.match(line)
            if m and m.group(1) != "self":
                keys.add(m.group(1))
                v = literal(m.group(2))
                if v is not None:
                    defaults[m.group(1)] = v
            continue
        m = FIELD.match(line)
        if m and "ClassVar" not in m.group(2) and m.group(1) not in ("model_type",):
            keys.add(m.group(1))
            if m.group(3) is not None:
                v = literal(m.group(3))
                if v is not None or m.group(3).strip() == "None":
                    defaults[m.group(1)] = v
        for s in SELF_SET.findall(line):
            keys.add(s)
        for a, b in KWARG.findall(line):
            keys.add(a or b)
    am = re.search(r"attribute_map\s*=\s*\{(.*?)\}", body, flags=re.S)
    if am:
        for alias, name in ALIAS.findall(am.group(1)):
            keys.update((alias, name))
    # class-level constants that are not config keys
    keys -= {"model_type", "keys_to_ignore_at_inference", "base_model_tp_plan", "base_model_pp_plan",
             "base_model_ep_plan", "attribute_map", "default_theta", "sub_configs", "rope_parameters_type"}
    return sorted(keys), {k: defaults[k] for k in sorted(defaults) if k in keys}


def main(src):
    out = {"source": {"repository": REPO, "files": {}}, "common": [], "model_types": {}}
    for name, (path, commit) in sorted(SOURCES.items()):
        out["source"]["files"][path] = commit
        with open(os.path.join(src, name), encoding="utf-8") as f:
            text = f.read()
        for cls, body in classes(text):
            if cls == "PreTrainedConfig":
                out["common"] = keys_of(body)[0]
                continue
            m = re.search(r"^    model_type\s*=\s*\"(\w+)\"", body, flags=re.M)
            if not m:  # gemma3 is the multimodal wrapper: its own keys (text_config, vision_config, ...) are listed too
                continue
            keys, defaults = keys_of(body)
            out["model_types"][m.group(1)] = {"class": cls, "path": path, "keys": keys, "defaults": defaults}
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
