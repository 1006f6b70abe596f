"""The HTTP surface: Powertools routers per area, one resolver factory, identity from JWT claims."""
