"""Every domain's models, imported once: Alembic's target metadata."""

from fengqiao.accounts import models as accounts_models
from fengqiao.audit import models as audit_models
from fengqiao.db import Base
from fengqiao.dispatch import models as dispatch_models
from fengqiao.disputes import models as disputes_models
from fengqiao.fraud import models as fraud_models
from fengqiao.grids import models as grids_models
from fengqiao.incidents import models as incidents_models
from fengqiao.live import models as live_models
from fengqiao.notify import models as notify_models
from fengqiao.org import models as org_models
from fengqiao.registry import models as registry_models
from fengqiao.tasks import models as tasks_models

metadata = Base.metadata
__all__ = [
    "accounts_models",
    "audit_models",
    "dispatch_models",
    "disputes_models",
    "fraud_models",
    "grids_models",
    "incidents_models",
    "live_models",
    "metadata",
    "notify_models",
    "org_models",
    "registry_models",
    "tasks_models",
]
