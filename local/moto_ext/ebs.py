"""The EBS direct APIs (ListSnapshotBlocks, GetSnapshotBlock, ListChangedBlocks) over the snapshots EC2 makes.

moto serves these only for snapshots written through StartSnapshot/PutSnapshotBlock, unpaged, with blocks of
512 bytes and no block tokens checked. AWS serves them for every completed snapshot: the blocks a volume has
written, 512 KiB each, in index order, paged (MaxResults 100 to 10,000; a page token good for 60 minutes),
each with a block token that GetSnapshotBlock must be given, and its data with a SHA256 checksum (base64).

Here a snapshot made by CreateSnapshot(s) or CopySnapshot has contents deterministic from its volume and its
time: one block in WRITTEN_EVERY of the volume holds data, and a written block changes on a day with a chance
of one in CHANGE_EVERY (its generation is the last day it changed). A snapshot's block is its generation's
data, so snapshots of one volume share the blocks that did not change between them, as a lineage does, and
ListChangedBlocks between two of them lists the blocks whose generation differs. A copy holds its source's
data. A control route (`/moto-api/snapmgmt/ebs/block-faults`) corrupts a block (its data no longer matches
its checksum) or drops one (listed, but GetSnapshotBlock finds nothing), for a test of verification.
"""

import base64
import datetime
import functools
import hashlib
import json
import time

from moto.core.exceptions import JsonRESTError

BLOCK_SIZE = 512 * 1024
BLOCKS_PER_GIB = 1024 * 1024 * 1024 // BLOCK_SIZE
# One block in this many of a volume holds data (AWS lists only written blocks).
WRITTEN_EVERY = 64
# A written block changes on a given day with a chance of one in this many.
CHANGE_EVERY = 4
DAY = 86_400
# Block tokens are good for seven days, page tokens for 60 minutes (the EBS direct APIs' FAQ).
BLOCK_TOKEN_SECONDS = 7 * DAY
PAGE_TOKEN_SECONDS = 3600
MAX_RESULTS = (100, 10_000)
# The secret the emulator signs its tokens with: a token not made here for this block is refused.
_SECRET = b"snapmgmt-emulator-ebs"

# (snapshot id, block index) -> "corrupt" | "drop": a test's faults.
_faults: dict[tuple[str, int], str] = {}


class EbsError(JsonRESTError):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(code, message)
        self.code = status


def _digest(*parts) -> bytes:
    return hashlib.sha256("|".join(map(str, parts)).encode()).digest()


@functools.lru_cache(maxsize=4096)
def written_blocks(volume_id: str, size_gib: int) -> tuple[int, ...]:
    """The indexes of the blocks the volume has written, in order."""
    return tuple(i for i in range(size_gib * BLOCKS_PER_GIB) if _digest(volume_id, i)[0] % WRITTEN_EVERY == 0)


def generation(volume_id: str, index: int, at: float) -> int:
    """The last day, at or before `at`, on which the block changed (0: never within a year)."""
    day = int(at // DAY)
    for d in range(day, day - 366, -1):
        if _digest(volume_id, index, d)[1] % CHANGE_EVERY == 0:
            return d
    return 0


def block_data(volume_id: str, index: int, gen: int) -> bytes:
    return _digest("data", volume_id, index, gen) * (BLOCK_SIZE // 32)


def checksum(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def _source(snapshot):
    """The snapshot whose data this one holds: a copy's source (in its own Region), else itself."""
    from moto.ec2.models import ec2_backends

    while getattr(snapshot, "copied_from", None):
        region, source_id = snapshot.copied_from
        source = ec2_backends[snapshot.ec2_backend.account_id][region].snapshots.get(source_id)
        if source is None:
            break
        snapshot = source
    return snapshot


def _lineage(snapshot) -> tuple[str, int, float]:
    """The volume, its size in GiB and the time whose data the snapshot holds."""
    source = _source(snapshot)
    started = source.start_time
    at = started.timestamp() if isinstance(started, datetime.datetime) else float(started)
    return source.volume.id, int(source.volume.size), at


def blocks_of(snapshot) -> dict[int, int]:
    """Block index -> generation, of every written block of the snapshot."""
    volume_id, size, at = _lineage(snapshot)
    return {i: generation(volume_id, i, at) for i in written_blocks(volume_id, size)}


def block_token(volume_id: str, index: int, gen: int) -> str:
    """A block's token: the same for every snapshot of the lineage that shares that block."""
    return base64.b64encode(_digest(_SECRET, volume_id, index, gen)[:24]).decode()


def _page_token(snapshot_id: str, next_index: int) -> str:
    body = json.dumps({"s": snapshot_id, "i": next_index, "t": int(time.time())}).encode()
    return base64.b64encode(body).decode()


def _read_page_token(token: str, snapshot_id: str) -> int:
    try:
        body = json.loads(base64.b64decode(token))
        assert body["s"] == snapshot_id
    except Exception:  # noqa: BLE001 - anything not made here for this snapshot
        raise EbsError("ValidationException", "The pagination token is not valid.") from None
    if time.time() - body["t"] > PAGE_TOKEN_SECONDS:
        raise EbsError("ValidationException", "The pagination token has expired.")
    return int(body["i"])


def _snapshot(response, snapshot_id: str):
    from moto.ec2.models import ec2_backends

    snapshot = ec2_backends[response.current_account][response.region].snapshots.get(snapshot_id)
    if snapshot is None:
        raise EbsError("ResourceNotFoundException", f"The snapshot '{snapshot_id}' does not exist.", 404)
    if snapshot.status != "completed":
        raise EbsError("ValidationException", f"The snapshot '{snapshot_id}' is not in the completed state.")
    return snapshot


def _paging(response, snapshot_id: str) -> tuple[int, int]:
    """The first block index to answer and the page's size, from the request."""
    limit = response._get_param("MaxResults")
    # Under 100 is refused by the model's constraints; AWS answers at least 100 anyway.
    limit = max(MAX_RESULTS[0], min(int(limit), MAX_RESULTS[1])) if limit else MAX_RESULTS[0] * 5
    token = response._get_param("NextToken")
    start = _read_page_token(token, snapshot_id) if token else int(response._get_param("StartingBlockIndex") or 0)
    return start, limit


def _expiry() -> datetime.datetime:
    return datetime.datetime.fromtimestamp(time.time() + BLOCK_TOKEN_SECONDS, tz=datetime.timezone.utc)


def _page(items: list, start: int, limit: int, snapshot_id: str) -> tuple[list, str | None]:
    """Items (index first) from `start`, at most `limit`, and the token of the next page if any."""
    chosen = [item for item in items if item[0] >= start]
    page, rest = chosen[:limit], chosen[limit:]
    return page, (_page_token(snapshot_id, rest[0][0]) if rest else None)


def list_snapshot_blocks(self):
    from moto.core.responses import ActionResult

    snapshot_id = self._get_param("SnapshotId")
    snapshot = _snapshot(self, snapshot_id)
    volume_id, size, _ = _lineage(snapshot)
    start, limit = _paging(self, snapshot_id)
    items = sorted(blocks_of(snapshot).items())
    page, next_token = _page(items, start, limit, snapshot_id)
    result = {
        "Blocks": [{"BlockIndex": i, "BlockToken": block_token(volume_id, i, gen)} for i, gen in page],
        "ExpiryTime": _expiry(),
        "VolumeSize": size,
        "BlockSize": BLOCK_SIZE,
    }
    if next_token:
        result["NextToken"] = next_token
    return ActionResult(result)


def get_snapshot_block(self):
    from moto.core.responses import ActionResult

    snapshot_id = self._get_param("SnapshotId")
    index = int(self._get_param("BlockIndex"))
    token = self._get_param("BlockToken")
    snapshot = _snapshot(self, snapshot_id)
    volume_id, _, _ = _lineage(snapshot)
    gen = blocks_of(snapshot).get(index)
    if gen is None or token != block_token(volume_id, index, gen):
        raise EbsError("ValidationException", f"The block token for block index {index} is not valid.")
    fault = _faults.get((snapshot_id, index))
    if fault == "drop":
        message = f"The block {index} of snapshot '{snapshot_id}' does not exist."
        raise EbsError("ResourceNotFoundException", message, 404)
    data = block_data(volume_id, index, gen)
    sum_ = checksum(data)
    if fault == "corrupt":
        data = bytes([data[0] ^ 0xFF]) + data[1:]
    return ActionResult({"DataLength": len(data), "BlockData": data, "Checksum": sum_, "ChecksumAlgorithm": "SHA256"})


def list_changed_blocks(self):
    from moto.core.responses import ActionResult

    second_id = self._get_param("SecondSnapshotId")
    first_id = self._get_param("FirstSnapshotId")
    second = _snapshot(self, second_id)
    volume_id, size, second_at = _lineage(second)
    second_blocks = blocks_of(second)
    first_blocks: dict[int, int] = {}
    if first_id:
        first = _snapshot(self, first_id)
        first_volume, _, first_at = _lineage(first)
        if first_volume != volume_id or first_at > second_at:
            raise EbsError(
                "ValidationException",
                f"The snapshot '{first_id}' is not an earlier snapshot of the lineage of '{second_id}'.",
            )
        first_blocks = blocks_of(first)
    start, limit = _paging(self, second_id)
    changed = sorted((i, first_blocks.get(i), gen) for i, gen in second_blocks.items() if first_blocks.get(i) != gen)
    page, next_token = _page(changed, start, limit, second_id)
    blocks = []
    for i, first_gen, gen in page:
        block = {"BlockIndex": i, "SecondBlockToken": block_token(volume_id, i, gen)}
        if first_gen is not None:
            block["FirstBlockToken"] = block_token(volume_id, i, first_gen)
        blocks.append(block)
    result = {"ChangedBlocks": blocks, "ExpiryTime": _expiry(), "VolumeSize": size, "BlockSize": BLOCK_SIZE}
    if next_token:
        result["NextToken"] = next_token
    return ActionResult(result)


def set_fault(snapshot_id: str, index: int, fault: str | None) -> None:
    """A test's fault on one block: "corrupt", "drop", or None to clear it."""
    if fault is None:
        _faults.pop((snapshot_id, index), None)
    elif fault in ("corrupt", "drop"):
        _faults[(snapshot_id, index)] = fault
    else:
        raise ValueError(f"fault must be corrupt, drop or null, not {fault!r}")


def reset() -> None:
    _faults.clear()


def install() -> None:
    from moto.ebs.responses import EBSResponse

    EBSResponse.list_snapshot_blocks = list_snapshot_blocks
    EBSResponse.get_snapshot_block = get_snapshot_block
    EBSResponse.list_changed_blocks = list_changed_blocks
