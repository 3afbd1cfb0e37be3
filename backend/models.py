"""Every table, for Alembic and for the ORM's mapper configuration: importing this module loads each domain's models.
Code imports a model from its own domain's `models` module, never from here."""

from backend.accounts import models as accounts_models  # noqa: F401
from backend.claims import models as claims_models  # noqa: F401
from backend.events import models as events_models  # noqa: F401
from backend.governance import models as governance_models  # noqa: F401
from backend.missions import models as missions_models  # noqa: F401
from backend.organizations import models as organizations_models  # noqa: F401
from backend.perks import models as perks_models  # noqa: F401
from backend.platform import models as platform_models  # noqa: F401
from backend.platform.orm import Base

metadata = Base.metadata
