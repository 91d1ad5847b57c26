"""A Folk worker in Python, written from docs/PROTOCOL.md alone: the pool runs any executable that
speaks the protocol, not only PHP. Needs Debian's python3-msgpack."""
import os, struct, sys, traceback

import msgpack

LIMIT = int(os.environ.get("FOLK_MAX_FRAME_LENGTH", 16 * 1024 * 1024))


def read_exact(fd, n):
    buf = b""
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def send(fd, message):
    payload = msgpack.packb(message, use_bin_type=True)
    data = memoryview(struct.pack(">I", len(payload)) + payload)
    while data:
        data = data[os.write(fd, data):]


def receive(fd):
    head = read_exact(fd, 4)
    if head is None:
        return None
    (length,) = struct.unpack(">I", head)
    if length == 0 or length > LIMIT:
        sys.exit("bad frame length %d" % length)
    return msgpack.unpackb(read_exact(fd, length), raw=False, strict_map_key=False)


def fail(params):
    raise ValueError("python says no: %s" % params)


HANDLERS = {
    "echo": lambda params: params,
    "add": lambda params: params["a"] + params["b"],
    "nothing": lambda params: None,
    "bytes": lambda params: bytes(range(256)),
    "fail": fail,
    "pid": lambda params: os.getpid(),
}

send(4, [2, "control.ready", {"pid": os.getpid(), "features": ["some-future-feature"]}])
while True:
    request = receive(3)
    if request is None:  # the master closed fd 3: the clean stop
        sys.exit(0)
    _, msgid, method, params = request[:4]
    if method == "exit":  # answers, says it exits, and does
        send(3, [1, msgid, None, "bye", {"exiting": True}])
        sys.exit(0)
    try:
        if method not in HANDLERS:
            response = [1, msgid, {"code": -32601, "message": "method not found: %s" % method}, None]
        else:
            response = [1, msgid, None, HANDLERS[method](params)]
    except Exception as e:
        where = traceback.extract_tb(e.__traceback__)[-1]
        response = [1, msgid, {"code": -32603, "message": str(e),
                               "data": {"class": type(e).__name__, "file": where.filename, "line": where.lineno}}, None]
    send(3, response)
