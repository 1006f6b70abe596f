"""Image Studio domain package: catalog, models, operations, providers, imaging, store, credits.

Shipped as a Lambda layer; handlers in functions/ import from here and stay thin.
"""

__version__ = "0.1.0"
API_PREFIX = "/api/image-studio"
