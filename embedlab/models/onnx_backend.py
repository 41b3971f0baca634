"""ONNX Runtime backends: ``NAME+onnx`` (fp32) and ``NAME+int8`` (dynamic int8 weights).

Only the backbone's forward pass changes. The export takes exactly the batch the PyTorch path builds
(``input_ids``, ``attention_mask``, and ``position_ids`` from the mask where the model takes them) and
returns the last hidden state, so tokenisation, prompts, padding side, EOS, pooling and the projection
head stay the code of :class:`~embedlab.models.transformer.TransformerEmbedder`.

Each export is built once into ``<data>/models/exports/<fingerprint of parent + backend>/`` (a temporary
folder renamed into place), and gated against its fp32 parent the first time it is loaded
(:mod:`embedlab.models.gate`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from embedlab.errors import ModelLoadError
from embedlab.models.gate import (
    exports_dir,
    gate_path,
    measure_gate,
    read_gate,
    save_gate,
)
from embedlab.models.spec import ModelSpec
from embedlab.models.transformer import (
    TransformerEmbedder,
    _forward_params,
    load_transformer,
)

log = logging.getLogger(__name__)

EXPORT_VERSION = 1  # bump when the export recipe changes: old exports are then not reused
OPSET = 17
MODEL_FILE = "model.onnx"
META_FILE = "export.json"

Step = Callable[[str, int, int], None]
"""``step(message, done, total)``: a one-time build reporting what it is doing."""


def cpu_isa(cpuinfo: str | None = None) -> str:
    """The widest int8 instruction set this CPU has, as ONNX Runtime will pick it at run time."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return "unknown"
    flags = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    for isa, needed in (("avx512-vnni", {"avx512_vnni"}), ("avx-vnni", {"avx_vnni"}), ("avx512", {"avx512bw"}),
                        ("avx2", {"avx2"})):
        if needed <= flags:
            return isa
    return "baseline" if flags else "unknown"


def variant_fingerprint(parent_fingerprint: str, backend: str) -> str:
    """What the embedding cache keys a variant's vectors by: never the same as its parent's."""
    return f"{parent_fingerprint}+{backend}@v{EXPORT_VERSION}"


def export_folder(parent_fingerprint: str, backend: str) -> Path:
    digest = hashlib.sha256(variant_fingerprint(parent_fingerprint, backend).encode()).hexdigest()[:24]
    return exports_dir() / f"{backend}-{digest}"


class OnnxBackbone:
    """An ONNX Runtime session standing in for a transformers backbone: called with the collated batch,
    it returns an object with ``last_hidden_state`` (batch, seq, dim)."""

    def __init__(self, path: Path, config, *, parameters: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.config = config
        self.input_names = frozenset(i.name for i in self.session.get_inputs())
        self.weight_bytes = path.stat().st_size
        self._parameters = parameters

    def eval(self) -> "OnnxBackbone":
        return self

    def num_parameters(self) -> int:
        return self._parameters

    def __call__(self, **batch: torch.Tensor):
        from transformers.modeling_outputs import BaseModelOutput

        feed = {name: batch[name].numpy() for name in self.input_names}
        (hidden,) = self.session.run(["last_hidden_state"], feed)  # (batch, seq, dim)
        return BaseModelOutput(last_hidden_state=torch.from_numpy(hidden))


class _LastHiddenState(torch.nn.Module):
    """What is exported: the backbone's forward on the batch's tensors, returning last_hidden_state."""

    def __init__(self, model: torch.nn.Module, names: list[str]) -> None:
        super().__init__()
        self.model, self.names = model, names
        # Decoders: no past key values (one forward pass per batch, nothing to reuse).
        self.extra = {"use_cache": False} if "use_cache" in _forward_params(model) else {}

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        return self.model(**dict(zip(self.names, tensors)), **self.extra).last_hidden_state


def export_backbone(parent: TransformerEmbedder, path: Path) -> None:
    """``torch.onnx.export`` (TorchScript exporter, opset 17) with dynamic batch and sequence axes."""
    # A padded batch of two, so the traced graph takes the masked path.
    batch = parent._collate(parent.tokenize(["An example sentence to trace the graph with.", "Short."]))
    names = list(batch)
    axes = {name: {0: "batch", 1: "sequence"} for name in [*names, "last_hidden_state"]}
    wrapper = _LastHiddenState(parent.model, names).eval()
    try:
        with torch.no_grad():
            torch.onnx.export(wrapper, tuple(batch[n] for n in names), str(path), input_names=names,
                              output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=OPSET,
                              dynamo=False)
    finally:
        parent.model.eval()  # export restores the wrapper's (training) mode onto the backbone


def quantize_int8(fp32: Path, path: Path) -> None:
    """Dynamic int8 weights (QInt8, per output channel); activations are quantised at run time."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # ORT advises its pre-processing pass (shape inference + graph fusion) on the root logger; the plain
    # recipe is the measured one (MODELS.md, the gate), so the advice would only confuse a user.
    advice = _DropMessage("pre-processing before quantization")
    logging.getLogger().addFilter(advice)
    try:
        quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        logging.getLogger().removeFilter(advice)


class _DropMessage(logging.Filter):
    def __init__(self, fragment: str) -> None:
        super().__init__()
        self.fragment = fragment

    def filter(self, record: logging.LogRecord) -> bool:
        return self.fragment not in record.getMessage()


def count_parameters(path: Path) -> int:
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    return int(sum(np.prod(init.dims, dtype=np.int64) for init in graph.initializer))


def build_export(parent: TransformerEmbedder, backend: str, *, step: Step | None = None) -> Path:
    """Export (and for int8 quantise) ``parent``'s backbone once; returns the finished folder."""
    final = export_folder(parent.fingerprint, backend)
    if (final / MODEL_FILE).exists():
        return final
    if backend == "int8":
        fp32 = build_export(parent, "onnx", step=step) / MODEL_FILE
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=final.parent))
    start = time.perf_counter()
    try:
        if backend == "int8":
            _say(step, f"Quantising {parent.name} to int8 weights (once)", 1, 3)
            quantize_int8(fp32, tmp / MODEL_FILE)
        else:
            _say(step, f"Exporting {parent.name} to ONNX (once)", 0, 3)
            export_backbone(parent, tmp / MODEL_FILE)
        meta = {"parent": parent.name, "parent_fingerprint": parent.fingerprint, "backend": backend,
                "opset": OPSET, "export_version": EXPORT_VERSION, "isa": cpu_isa(),
                "parameters": count_parameters(tmp / MODEL_FILE), "build_seconds": time.perf_counter() - start,
                "torch": torch.__version__, "onnxruntime": _ort_version()}
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2))
        tmp.rename(final)
    except FileExistsError:
        shutil.rmtree(tmp, ignore_errors=True)  # another process finished first: use theirs
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if not (final / MODEL_FILE).exists():
            raise ModelLoadError(f"Could not write the {backend} export of {parent.name} to {final}: {exc}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def load_variant(spec: ModelSpec, backbone_dir: Path, *, fingerprint: str, head: torch.nn.Module | None = None,
                 step: Step | None = None) -> TransformerEmbedder:
    """``spec`` (backend onnx or int8) run by ONNX Runtime; built and gated against its parent the first time."""
    parent_spec = spec.with_backend("torch")
    parent = None
    folder = export_folder(fingerprint, spec.backend)
    if not (folder / MODEL_FILE).exists():
        _say(step, f"Building {spec.name} once: export, then a quality check against {parent_spec.name}", 0, 3)
        parent = load_transformer(parent_spec, backbone_dir, fingerprint=fingerprint, head=head)
        build_export(parent, spec.backend, step=step)
    variant = _open(spec, folder, backbone_dir, fingerprint=fingerprint, head=head,
                    tokenizer=parent.tokenizer if parent else None)
    where = gate_path(folder, variant.cache_key("document"))
    if not where.exists() or read_gate(where) is None:
        _say(step, f"Measuring {spec.name} against {parent_spec.name} (quality gate, once)", 2, 3)
        parent = parent or load_transformer(parent_spec, backbone_dir, fingerprint=fingerprint, head=head)
        save_gate(where, measure_gate(parent, variant, backend=spec.backend, isa=_meta(folder).get("isa", "")))
        _say(step, f"{spec.name} is built", 3, 3)
    return variant


def _open(spec: ModelSpec, folder: Path, backbone_dir: Path, *, fingerprint: str, head, tokenizer=None):
    from transformers import AutoConfig, AutoTokenizer

    meta = _meta(folder)
    try:
        backbone = OnnxBackbone(folder / MODEL_FILE, AutoConfig.from_pretrained(str(backbone_dir)),
                                parameters=int(meta.get("parameters", 0)))
    except Exception as exc:  # onnxruntime raises its own types for a damaged or foreign file
        raise ModelLoadError(f"The {spec.backend} export of {spec.parent_name} in {folder} cannot be opened "
                             f"({exc}). Delete that folder: it is rebuilt on next use.") from None
    tokenizer = tokenizer or AutoTokenizer.from_pretrained(str(backbone_dir))
    return TransformerEmbedder(spec, backbone, tokenizer, fingerprint=variant_fingerprint(fingerprint, spec.backend),
                               head=head, inputs=backbone.input_names, weight_bytes=backbone.weight_bytes)


def _meta(folder: Path) -> dict:
    try:
        return json.loads((folder / META_FILE).read_text())
    except (OSError, ValueError):
        return {}


def _ort_version() -> str:
    import onnxruntime

    return onnxruntime.__version__


def _say(step: Step | None, message: str, done: int, total: int) -> None:
    log.info(message)
    if step:
        step(message, done, total)
