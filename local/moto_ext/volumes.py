"""EBS volumes made from a snapshot, as EC2 makes them.

moto 5.2 makes a volume `available` at once, from any snapshot, and deletes one in any state. EC2: a volume
from a snapshot is `creating` for a while, then `available` (or `error`); CreateVolume refuses a snapshot that
is not completed (IncorrectState); DeleteVolume refuses a volume being created (IncorrectState: it can be
deleted once it is available or has failed). A control route makes the volumes of one snapshot fail, as a
restore of a damaged snapshot would:

POST /moto-api/snapmgmt/ec2/volume-faults {"snapshotId", "fault": "error" | null}
"""

import os
import time

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import elastic_block_store as models

# How long a volume from a snapshot stays `creating`.
VOLUME_SECONDS = float(os.environ.get("SNAPMGMT_EMULATOR_EBS_VOLUME_SECONDS", "1"))

_faults: dict[str, str] = {}
_original_create = models.EBSBackend.create_volume
_original_delete = models.EBSBackend.delete_volume
_original_status = models.Volume.status


def _status(self) -> str:
    """`creating` until its time is up, then `error` when its snapshot was made to fail, else moto's."""
    ready_at = getattr(self, "ready_at", None)
    if ready_at is not None and time.time() < ready_at:
        return "creating"
    if getattr(self, "fault", None):
        return self.fault
    return _original_status.fget(self)


def _create_volume(self, size, zone_name, snapshot_id=None, **kwargs):
    if snapshot_id:
        snapshot = self.get_snapshot(snapshot_id)
        if snapshot.status != "completed":
            raise EC2ClientError("IncorrectState", f"Snapshot {snapshot_id} is not completed: it is {snapshot.status}.")
    volume = _original_create(self, size, zone_name, snapshot_id=snapshot_id, **kwargs)
    if snapshot_id:
        volume.ready_at = time.time() + VOLUME_SECONDS
        volume.fault = _faults.get(snapshot_id)
    return volume


def _delete_volume(self, volume_id):
    volume = self.volumes.get(volume_id)
    if volume is not None and volume.status == "creating":
        raise EC2ClientError("IncorrectState", f"The volume '{volume_id}' is 'creating' and cannot be deleted yet.")
    return _original_delete(self, volume_id)


def set_fault(snapshot_id: str, fault: str | None) -> None:
    if fault is None:
        _faults.pop(snapshot_id, None)
    elif fault == "error":
        _faults[snapshot_id] = fault
    else:
        raise ValueError(f"fault must be error or null, not {fault!r}")


def reset() -> None:
    _faults.clear()


def install() -> None:
    models.Volume.status = property(_status)
    models.EBSBackend.create_volume = _create_volume
    models.EBSBackend.delete_volume = _delete_volume
