"""flowzoo_checkpoint.py — read a flowzoo run folder or checkpoint into NumPy.

A flowzoo checkpoint (cli/checkpoint.hpp) is one safetensors file (tensor/safetensors.hpp):

    [8 bytes: little-endian u64 N][N bytes: JSON header][raw little-endian tensor data]

whose header maps every tensor name to {"dtype", "shape", "data_offsets"} and whose
"__metadata__" holds the run configuration ("flowzoo.config", the config.json of the run),
the step, the RNG state, the wall-clock seconds and a crc32 of the data section
("data_crc32", 8 hex digits), verified here as flowzoo verifies it.

Tensor names carry a prefix per owner:
    model.<name>    parameters, then persistent buffers, of the model (by dotted name)
    optim.<name>    the optimiser: "step" and "state.<i>.<slot>" per parameter i
    ema.<name>      Polyak averages: "num_updates" and "shadow.<i>" per parameter i
    trainer.<name>  divergence-recovery counters
The optimiser and EMA states are indexed by the parameter's registration order, which is the
order of the model's parameters in the file (Module::state_dict lists every parameter before
any buffer). `load` names them after their parameters instead: ema["scale0.1.0.bias"] is the
average of model["scale0.1.0.bias"].

Only the standard library and NumPy are used. A corrupt or truncated file raises ValueError
naming the file and what is wrong.

    >>> import flowzoo_checkpoint as fzc
    >>> run = fzc.load("runs/latest")          # a run folder or a .safetensors file
    >>> run.config["model"]["model"], run.step
    >>> run.model["scale0.1.0.logs"]           # numpy.ndarray (float32)
    >>> run.ema, run.optimizer, run.trainer    # dicts of arrays (ema empty without --polyak)
"""

import json
import os
import struct
import zlib

import numpy as np

CHECKPOINT_FILE = "checkpoint.safetensors"
_MAX_HEADER_BYTES = 64 << 20  # as tensor/safetensors.cpp: real headers are kilobytes
_DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8")}


class Checkpoint:
    """One checkpoint: the run configuration and its tensors as NumPy arrays.

    Attributes:
      path       the .safetensors file read
      config     the run configuration (dict, as config.json)
      step       optimiser steps done
      wall_seconds, rng_state   the other flowzoo metadata
      metadata   every metadata string (the checksum removed once verified)
      model      {name: array}: parameters and buffers, in file order (parameters first)
      parameters the names of the model's parameters, in registration order
      buffers    the names of the model's buffers
      optimizer  {"step": array, "<parameter name>.<slot>": array, "<parameter name>.step": ...}
      ema        {"<parameter name>": array}: the averaged parameters ({} without averaging)
      ema_updates  how many updates the averages have had (0 without averaging)
      trainer    {name: array}
      tensors    every tensor by its full name in the file ("model.…", "ema.shadow.3", …)
    """

    def __init__(self, path, metadata, tensors):
        self.path = path
        self.tensors = tensors
        self.metadata = metadata
        self.config = _json_metadata(path, metadata, "flowzoo.config")
        self.step = _int_metadata(path, metadata, "flowzoo.step")
        self.wall_seconds = _float_metadata(path, metadata, "flowzoo.wall_seconds")
        self.rng_state = metadata.get("flowzoo.rng", "")
        self.model = _with_prefix(tensors, "model.")
        raw_ema = _with_prefix(tensors, "ema.")
        raw_optim = _with_prefix(tensors, "optim.")
        self.trainer = _with_prefix(tensors, "trainer.")
        self.parameters = _parameter_names(path, self.model, raw_ema, raw_optim)
        self.buffers = [n for n in self.model if n not in set(self.parameters)]
        self.ema = {p: raw_ema["shadow.%d" % i] for i, p in enumerate(self.parameters)} if raw_ema else {}
        self.ema_updates = int(raw_ema["num_updates"]) if "num_updates" in raw_ema else 0
        self.optimizer = _name_optimizer(path, self.parameters, raw_optim)

    def model_state(self, use_ema=False):
        """The model's {name: array}; with use_ema the averaged parameters replace the trained
        ones (what flowzoo's eval, sample and density use when the run averaged)."""
        state = dict(self.model)
        if use_ema:
            for name in self.parameters:
                if name in self.ema:
                    state[name] = self.ema[name]
        return state

    def __repr__(self):
        model = self.config.get("model", {}).get("model", "?")
        return "Checkpoint(%r, model=%s, step=%d, %d parameters, %d buffers, ema=%s)" % (
            self.path, model, self.step, len(self.parameters), len(self.buffers), bool(self.ema))


def checkpoint_path(path):
    """The checkpoint file of a run folder, or `path` itself when it is a file."""
    if os.path.isdir(path):
        return os.path.join(path, CHECKPOINT_FILE)
    return path


def load(path):
    """Loads a run folder (its checkpoint.safetensors) or a checkpoint file."""
    file = checkpoint_path(path)
    metadata, tensors = read_safetensors(file)
    return Checkpoint(file, metadata, tensors)


def read_safetensors(path):
    """Reads any safetensors file of F32/F64 tensors: (metadata dict, {name: array}) in the
    file's order. Validates sizes, offsets, dtypes, overlaps and flowzoo's data checksum."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except IsADirectoryError:
        _fail(path, "is a directory, not a safetensors file")
    except OSError as e:
        _fail(path, "cannot be read (%s)" % e.strerror)
    if len(data) < 8:
        _fail(path, "truncated: shorter than the 8-byte header length")
    (header_len,) = struct.unpack("<Q", data[:8])
    if header_len > _MAX_HEADER_BYTES or header_len > len(data) - 8:
        _fail(path, "header length %d does not fit the file (%d bytes): corrupt or not a safetensors file"
              % (header_len, len(data)))
    try:
        header = json.loads(data[8:8 + header_len].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        _fail(path, "header is not valid JSON (%s): corrupt or not a safetensors file"
              % getattr(e, "msg", "not UTF-8"))
    if not isinstance(header, dict):
        _fail(path, "header is not a JSON object")
    data_at = 8 + header_len
    data_size = len(data) - data_at

    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        _fail(path, "__metadata__ is not an object of strings")
    metadata = dict(metadata)

    entries = []
    for name, entry in header.items():
        entries.append((name,) + _parse_entry(path, name, entry, data_size))
    spans = sorted((begin, end, name) for name, _, _, begin, end in entries)
    for (b0, e0, n0), (b1, e1, n1) in zip(spans, spans[1:]):
        if b1 < e0:
            _fail(path, "tensors %r and %r overlap" % (n0, n1))

    crc_text = metadata.pop("data_crc32", None)
    if crc_text is not None:
        if len(crc_text) != 8 or any(c not in "0123456789abcdefABCDEF" for c in crc_text):
            _fail(path, "metadata data_crc32 is %r, not 8 hexadecimal digits: the file is corrupt" % crc_text)
        crc = zlib.crc32(memoryview(data)[data_at:]) & 0xFFFFFFFF
        if crc != int(crc_text, 16):
            _fail(path, "checksum mismatch: the data section's crc32 is %08x but the header records %s; "
                        "the file is corrupt (a damaged copy or a bad disk)" % (crc, crc_text.lower()))

    tensors = {}
    for name, dtype, shape, begin, end in entries:
        tensors[name] = np.frombuffer(data, dtype=dtype, count=(end - begin) // dtype.itemsize,
                                      offset=data_at + begin).reshape(shape).copy()
    return metadata, tensors


def _fail(path, what):
    raise ValueError("safetensors file '%s': %s" % (path, what))


def _parse_entry(path, name, entry, data_size):
    if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= set(entry):
        _fail(path, "tensor %r lacks dtype, shape or data_offsets" % name)
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(dtype, str) or not isinstance(shape, list) or not isinstance(offsets, list) \
            or len(offsets) != 2:
        _fail(path, "tensor %r has a malformed entry" % name)
    if dtype not in _DTYPES:
        _fail(path, "tensor %r has unsupported dtype %r (F32, F64 are read)" % (name, dtype))
    if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        _fail(path, "tensor %r has a non-integer or negative dimension" % name)
    if not all(isinstance(o, int) and not isinstance(o, bool) and o >= 0 for o in offsets):
        _fail(path, "tensor %r has non-integer data_offsets" % name)
    begin, end = offsets
    if begin > end or end > data_size:
        _fail(path, "tensor %r data [%d, %d) lies outside the %d-byte data section (truncated file?)"
              % (name, begin, end, data_size))
    need = int(np.prod(shape, dtype=object)) * _DTYPES[dtype].itemsize
    if end - begin != need:
        _fail(path, "tensor %r shape %s needs %d bytes, its offsets give %d" % (name, shape, need, end - begin))
    return _DTYPES[dtype], tuple(shape), begin, end


def _with_prefix(tensors, prefix):
    return {n[len(prefix):]: t for n, t in tensors.items() if n.startswith(prefix)}


def _meta(path, metadata, key):
    if key not in metadata:
        raise ValueError("checkpoint '%s': metadata has no %s (not a flowzoo checkpoint?)" % (path, key))
    return metadata[key]


def _json_metadata(path, metadata, key):
    try:
        value = json.loads(_meta(path, metadata, key))
    except ValueError as e:
        raise ValueError("checkpoint '%s': %s is not valid JSON (%s)" % (path, key, e)) from None
    if not isinstance(value, dict) or not isinstance(value.get("model"), dict):
        raise ValueError("checkpoint '%s': %s is not a flowzoo run configuration" % (path, key))
    return value


def _int_metadata(path, metadata, key):
    text = _meta(path, metadata, key)
    if not text.isdigit():
        raise ValueError("checkpoint '%s': %s is %r, not a step count" % (path, key, text))
    return int(text)


def _float_metadata(path, metadata, key):
    try:
        return float(metadata.get(key, "0"))
    except ValueError:
        raise ValueError("checkpoint '%s': %s is %r, not a number" % (path, key, metadata[key])) from None


def _indexed(raw, prefix):
    """{i: rest} for the names "<prefix><i>" or "<prefix><i>.<rest>" of `raw`."""
    out = {}
    for name in raw:
        if name.startswith(prefix):
            head = name[len(prefix):].split(".", 1)[0]
            if head.isdigit():
                out.setdefault(int(head), []).append(name)
    return out


def _parameter_names(path, model, raw_ema, raw_optim):
    """The model's parameter names in registration order. Module::state_dict writes the
    parameters first, so they are the first n model tensors, n = how many per-parameter
    states the optimiser (or the EMA) holds; their shapes must match."""
    names = list(model)
    shadows = _indexed(raw_ema, "shadow.")
    states = _indexed(raw_optim, "state.")
    counts = [len(x) for x in (states, shadows) if x]
    if not counts:
        # No per-parameter state: cannot tell parameters from buffers; flowzoo's buffers are
        # ActNorm's "initialised", LU's "P"/"sign_s" and normalisation statistics.
        buffer_leaf = {"initialised", "P", "sign_s", "running_mean", "running_var"}
        return [n for n in names if n.rsplit(".", 1)[-1] not in buffer_leaf]
    n = counts[0]
    for x in (states, shadows):
        if x and sorted(x) != list(range(n)):
            raise ValueError("checkpoint '%s': the optimiser holds %d parameter states but the averages %d "
                             "(or their indices have gaps): corrupt checkpoint" % (path, len(states), len(shadows)))
    if n > len(names):
        raise ValueError("checkpoint '%s': %d per-parameter states but only %d model tensors" % (path, n, len(names)))
    for i in range(n):
        if shadows and raw_ema["shadow.%d" % i].shape != model[names[i]].shape:
            raise ValueError("checkpoint '%s': ema.shadow.%d has shape %s but parameter %s has %s"
                             % (path, i, raw_ema["shadow.%d" % i].shape, names[i], model[names[i]].shape))
    return names[:n]


def _name_optimizer(path, parameters, raw_optim):
    out = {}
    for name, t in raw_optim.items():
        parts = name.split(".", 2)
        if len(parts) == 3 and parts[0] == "state" and parts[1].isdigit():
            i = int(parts[1])
            if i >= len(parameters):
                raise ValueError("checkpoint '%s': optimiser state %d has no parameter" % (path, i))
            out[parameters[i] + "." + parts[2]] = t
        else:
            out[name] = t
    return out
