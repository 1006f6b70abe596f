"""Image Studio domain package: catalog, models, operations, providers, imaging, store, credits.

Shipped as a Lambda layer; handlers in functions/ import from here and stay thin.
"""

__version__ = "0.1.0"
API_PREFIX = "/api/image-studio"


def download_path(asset_id: str) -> str:
    """The API path that redirects to an asset's file (and counts the download)."""
    return f"{API_PREFIX}/assets/{asset_id}/download"
