"""Hand-made torch.save archives for the tests: the layout torch writes, with any pickle we like.

    archive(path, dumps({"w": View(Storage("0", FLOAT, 6), 1, (2, 2), (1, 2))}), {"0": raw bytes})
"""

import io
import pickle
import zipfile


class Global:
    """A global named in the pickle (written as a GLOBAL opcode; nothing is imported)."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle insists that a REDUCE target be callable; never called
        raise AssertionError("stand-in global called")


FLOAT, INT = Global("torch", "FloatStorage"), Global("torch", "IntStorage")
REBUILD = Global("torch._utils", "_rebuild_tensor_v2")
ORDERED_DICT = Global("collections", "OrderedDict")


class Storage:
    def __init__(self, key, storage_type, numel):
        self.key, self.type, self.numel = key, storage_type, numel


class View:
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride, False, Empty())


class Empty:
    """An empty OrderedDict as torch pickles backward hooks: OrderedDict()."""


class Pickler(pickle._Pickler):
    """Pickles tensors as torch does (persistent storages + _rebuild_tensor_v2), with any view, no torch."""

    dispatch = dict(pickle._Pickler.dispatch)
    dispatch[Global] = lambda self, obj: self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())

    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", obj.type, obj.key, "cpu", obj.numel)
        return None

    def reducer_override(self, obj):
        if isinstance(obj, View):
            return REBUILD, obj.args
        if isinstance(obj, Empty):
            return ORDERED_DICT, ()
        return NotImplemented


def archive(path, pickle_bytes, storages=None, byteorder=b"little", compress=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compress) as zf:
        zf.writestr("archive/data.pkl", pickle_bytes)
        if byteorder is not None:
            zf.writestr("archive/byteorder", byteorder)
        for key, data in (storages or {}).items():
            zf.writestr(f"archive/data/{key}", data)
        zf.writestr("archive/version", b"3\n")
    return path


def dumps(obj):
    buf = io.BytesIO()
    Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue()
