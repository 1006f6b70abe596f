"""Usage analytics of a library: totals by type, source and month, cost, favourites, most used.

Read from the owner's partition (a Query, never a Scan) up to MAX_COUNTED assets; beyond that the
answer says `truncated` and counts the newest ones.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from imagestudio.catalog import format_usd
from imagestudio.models.records import Asset
from imagestudio.ports import Ports

MAX_COUNTED = 20000
MOST_USED = 10


def uses(asset: Asset) -> int:
    return asset.download_count + asset.share_count + asset.access_count


@dataclass
class LibraryStatistics:
    total_assets: int = 0
    total_bytes: int = 0
    total_cost_credits: int = 0
    total_cost_usd: str = "0.00"
    favorites: int = 0
    downloads: int = 0
    shares: int = 0
    accesses: int = 0
    collections: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    by_source: dict[str, int] = field(default_factory=dict)
    by_month: dict[str, int] = field(default_factory=dict)
    most_used: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False


def statistics(ports: Ports, owner: str) -> LibraryStatistics:
    stats = LibraryStatistics()
    by_type: Counter[str] = Counter()
    by_source: Counter[str] = Counter()
    by_month: Counter[str] = Counter()
    used: list[Asset] = []
    for n, (asset, _key) in enumerate(ports.assets.iter_assets(owner, page_size=1000)):
        if n >= MAX_COUNTED:
            stats.truncated = True
            break
        stats.total_assets += 1
        stats.total_bytes += asset.bytes
        stats.total_cost_credits += asset.cost_credits
        stats.favorites += int(asset.favorite)
        stats.downloads += asset.download_count
        stats.shares += asset.share_count
        stats.accesses += asset.access_count
        by_type[asset.type] += 1
        by_source[asset.operation or asset.source] += 1
        by_month[asset.created_at.strftime("%Y-%m")] += 1
        if uses(asset):
            used.append(asset)
    used.sort(key=lambda a: (-uses(a), a.id))
    stats.most_used = [
        {
            "asset_id": a.id,
            "title": a.title,
            "type": a.type,
            "uses": uses(a),
            "downloads": a.download_count,
            "shares": a.share_count,
            "accesses": a.access_count,
            "last_accessed": a.last_accessed,
        }
        for a in used[:MOST_USED]
    ]
    stats.by_type = dict(by_type.most_common())
    stats.by_source = dict(by_source.most_common())
    stats.by_month = dict(sorted(by_month.items()))
    stats.total_cost_usd = format_usd(Decimal(stats.total_cost_credits) / 100)
    stats.collections = len(ports.collections.list(owner))
    return stats
