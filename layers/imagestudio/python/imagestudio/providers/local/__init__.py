"""The offline provider 'local' (model local-pillow): real images, clips and 3D models made with Pillow
for every capability, a simulated asynchronous queue and fault switches. No network, no keys, no cost.

    from imagestudio.providers.local import LocalProvider, Faults
    provider = LocalProvider()                                  # faults from LOCAL_PROVIDER_FAULTS
    provider = LocalProvider(simulating="wavespeed", faults="wavespeed:429*2")

See `provider` for the knobs, `faults` for the switch syntax and each module for what a capability does.
"""

from imagestudio.providers.local.faults import FaultRule, Faults
from imagestudio.providers.local.provider import ASYNC_BY_DEFAULT, LocalProvider
from imagestudio.providers.local.queue import reset as reset_jobs

__all__ = ["ASYNC_BY_DEFAULT", "FaultRule", "Faults", "LocalProvider", "reset_jobs"]
