"""Every domain's models, imported once: Alembic's target metadata."""

from fengqiao.accounts import models as accounts_models
from fengqiao.audit import models as audit_models
from fengqiao.db import Base
from fengqiao.org import models as org_models

metadata = Base.metadata
__all__ = ["accounts_models", "audit_models", "metadata", "org_models"]
