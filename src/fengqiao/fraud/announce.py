"""How an order is shown and announced: its label (name and phone masked), its title
by warning type, and its live event for its person and its station's desk."""

from __future__ import annotations

from sqlalchemy.orm import Session

from fengqiao.fraud.models import FraudOrder, WarningType
from fengqiao.i18n import N_, _
from fengqiao.live import service as live
from fengqiao.privacy import mask_name, mask_phone


def label(name: str | None, phone: str | None, address: str | None) -> str:
    """How an order is shown in lists: masked name and phone, the address text."""
    who = mask_name(name) if name else _("Unnamed")
    parts = [who, mask_phone(phone) if phone else "", address or ""]
    return " ".join(p for p in parts if p)[:400]


TYPE_LABELS = {
    WarningType.SCAM_CALL: N_("On a suspected scam call now"),
    WarningType.SCAM_APP: N_("Scam app installed"),
    WarningType.SUSPICIOUS_TRANSFER: N_("Suspicious transfer"),
    WarningType.AT_RISK: N_("Group at risk"),
}
TYPE_TITLES = {
    WarningType.SCAM_CALL: N_("Fraud warning: on a suspected scam call"),
    WarningType.SCAM_APP: N_("Fraud warning: scam app installed"),
    WarningType.SUSPICIOUS_TRANSFER: N_("Fraud warning: suspicious transfer"),
    WarningType.AT_RISK: N_("Fraud warning: person at risk"),
}


def title_of(warning_type: WarningType) -> str:
    return _(TYPE_TITLES[warning_type])


def push(session: Session, order: FraudOrder, kind: str = "fraud_order", **extra: object) -> None:
    """The live event of an order for its person and its station's desk: masked name
    and phone, no address."""
    live.publish(
        session,
        kind=kind,
        station_id=order.station_id,
        person_id=order.assignee_id,
        payload={
            "order": order.id,
            "level": order.level.value,
            "type": order.warning_type.value,
            "title": title_of(order.warning_type),
            "label": label(order.name, order.phone, None),
            "person": order.assignee_id,
            "status": order.status.value,
            **extra,
        },
    )
