"""EBS snapshots as the real service behaves, on moto's EC2 models.

moto 5.2 leaves out: a snapshot that is `pending` before it is `completed`; DescribeSnapshots' OwnerIds
and its MaxResults / NextToken paging (moto answers every snapshot at once); CopySnapshot as AWS does it
(only a completed source, at most 20 copies in flight to one destination Region, Encrypted and KmsKeyId
honoured, the copy pending for a while). This module adds them.
It also makes a resource's own tags one look-up: moto scans every tag of the account for each resource it
filters or renders, so DescribeInstances over 1,000 instances took 7 s and 10,000 would take minutes
(quadratic); the answers are the same. And DescribeInstances pages by instance, as AWS does (MaxResults counts
instances): moto counted reservations, so a page of 1,000 launched 500 at a time held 10,000 instances and
took 99 s to render.
"""

import copy
import os
import time

from moto.ec2.models import core as ec2_core
from moto.ec2.models import elastic_block_store as models
from moto.ec2.models.tags import EC2_PREFIX_TO_RESOURCE, get_prefix
from moto.ec2.responses import elastic_block_store as responses
from moto.ec2.responses import instances as instance_responses

# How long a new snapshot stays `pending` before it is `completed`.
SNAPSHOT_SECONDS = float(os.environ.get("SNAPMGMT_EMULATOR_EBS_SNAPSHOT_SECONDS", "1"))
MAX_RESULTS = 1000
# EBS: "a limit of 20 concurrent snapshot copy requests per destination Region" (ResourceLimitExceeded).
COPIES_IN_FLIGHT = 20
# The destination Region's default EBS key, which an encrypted copy without a KmsKeyId gets.
DEFAULT_EBS_KEY = "alias/aws/ebs"

_original_init = models.Snapshot.__init__


def _init(self, *args, **kwargs):
    _original_init(self, *args, **kwargs)
    self.ready_at = time.time() + SNAPSHOT_SECONDS


def _status(self):
    """pending until its time is up, then its outcome (completed unless a test set error)."""
    return "pending" if time.time() < getattr(self, "ready_at", 0) else self._status


def _set_status(self, value):
    self._status = value


def _describe_snapshots(self):
    """moto's DescribeSnapshots, with OwnerIds and paging."""
    owner_ids = self._get_param("OwnerIds", [])
    filters = self._filters_from_querystring()
    snapshot_ids = self._get_param("SnapshotIds", [])
    # Tag filters are applied here with one look-up per snapshot: moto's own filter describes every tag of
    # the account for each snapshot, which takes minutes at 10,000 snapshots.
    tag_filters = {k[4:]: set(v) for k, v in filters.items() if k.startswith("tag:")}
    other_filters = {k: v for k, v in filters.items() if not k.startswith("tag:")}
    snapshots = self.ec2_backend.describe_snapshots(snapshot_ids=snapshot_ids, filters=other_filters)
    if tag_filters:
        tags = self.ec2_backend.tags
        snapshots = [
            s for s in snapshots if all(tags.get(s.id, {}).get(key) in values for key, values in tag_filters.items())
        ]
    if owner_ids:
        wanted = {self.current_account if o == "self" else o for o in owner_ids}
        snapshots = [s for s in snapshots if s.owner_id in wanted]
    snapshots.sort(key=lambda s: s.id)
    max_results = int(self._get_param("MaxResults") or 0)
    if snapshot_ids or not max_results:
        return responses.ActionResult({"Snapshots": snapshots})
    start = int(self._get_param("NextToken") or 0)
    page = snapshots[start : start + min(max_results, MAX_RESULTS)]
    result = {"Snapshots": page}
    if start + len(page) < len(snapshots):
        result["NextToken"] = str(start + len(page))
    return responses.ActionResult(result)


def _copy_snapshot(self):
    """CopySnapshot, sent to the destination Region, as AWS answers it."""
    from moto.ec2.exceptions import EC2ClientError, InvalidSnapshotIdError
    from moto.ec2.models import ec2_backends

    self.error_on_dryrun()
    source_id = self._get_param("SourceSnapshotId")
    source_region = self._get_param("SourceRegion") or self.region
    source = ec2_backends[self.current_account][source_region].snapshots.get(source_id)
    if source is None:
        raise InvalidSnapshotIdError()
    if source.status != "completed":
        raise EC2ClientError("IncorrectState", f"Snapshot {source_id} is not completed: it is {source.status}.")
    in_flight = [
        s for s in self.ec2_backend.snapshots.values() if getattr(s, "copied_from", None) and s.status == "pending"
    ]
    if len(in_flight) >= COPIES_IN_FLIGHT:
        raise EC2ClientError(
            "ResourceLimitExceeded",
            f"Too many snapshot copies in progress to {self.region}: the limit is {COPIES_IN_FLIGHT}.",
        )
    encrypted = str(self._get_param("Encrypted")).lower() == "true" or source.encrypted
    kms_key_id = self._get_param("KmsKeyId")
    if kms_key_id and not encrypted:
        raise EC2ClientError("InvalidParameterDependency", "KmsKeyId requires Encrypted to be true.")
    description = self._get_param("Description") or f"[Copied {source_id} from {source_region}]"
    snapshot = self.ec2_backend.copy_snapshot(
        source_snapshot_id=source_id, source_region=source_region, description=description, kms_key_id=None
    )
    snapshot.encrypted = encrypted
    snapshot.kms_key_id = (kms_key_id or DEFAULT_EBS_KEY) if encrypted else None
    snapshot.copied_from = (source_region, source_id)
    scripted = next_copy_outcomes(self.ec2_backend)
    if scripted:
        snapshot.status = scripted.pop(0)  # its outcome once its time is up: "error" fails it
    snapshot.add_tags(self._parse_tag_specification().get("snapshot", {}))
    return responses.ActionResult({"SnapshotId": snapshot.id, "Tags": snapshot.tag_set})


def next_copy_outcomes(backend) -> list:
    """The states the next copies into this backend's Region end in, e.g. ["error"] (a test's script)."""
    if not hasattr(backend, "snapmgmt_next_copies"):
        backend.snapmgmt_next_copies = []
    return backend.snapmgmt_next_copies


def _get_tags(self) -> list:
    """The resource's tags, as moto's describe_tags(resource-id) lists them, from the tag index directly."""
    if not self.id:
        return []
    resource_type = EC2_PREFIX_TO_RESOURCE.get(get_prefix(self.id), "")
    return [
        {"resource_id": self.id, "key": key, "value": value, "resource_type": resource_type}
        for key, value in self.ec2_backend.tags.get(self.id, {}).items()
    ]


_original_describe_instances = instance_responses.InstanceResponse.describe_instances


def _describe_instances(self):
    """moto's DescribeInstances, paged by instance (a reservation split across pages where a page ends)."""
    max_results = self._get_param("MaxResults")
    if not max_results or self._get_param("InstanceIds", []):
        return _original_describe_instances(self)
    self.error_on_dryrun()
    reservations = self.ec2_backend.describe_instances(filters=self._filters_from_querystring())
    pairs = [(r, i) for r in reservations for i in r.instances]
    start = int(self._get_param("NextToken") or 0)
    page = pairs[start : start + min(int(max_results), 1000)]
    grouped = []
    for reservation, instance in page:
        if not grouped or grouped[-1].id != reservation.id:
            grouped.append(copy.copy(reservation))
            grouped[-1].instances = []
        grouped[-1].instances.append(instance)
    result = {"Reservations": grouped, "NextToken": None}
    if start + len(page) < len(pairs):
        result["NextToken"] = str(start + len(page))
    return responses.ActionResult(result)


def install() -> None:
    instance_responses.InstanceResponse.describe_instances = _describe_instances
    ec2_core.TaggedEC2Resource.get_tags = _get_tags
    models.Snapshot.__init__ = _init
    models.Snapshot.status = property(_status, _set_status)
    responses.ElasticBlockStore.describe_snapshots = _describe_snapshots
    responses.ElasticBlockStore.copy_snapshot = _copy_snapshot
