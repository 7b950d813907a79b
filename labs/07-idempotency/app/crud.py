from sqlmodel import Session

from app import provider
from app.models import Payment, PaymentCreate


def charge_and_record(
    *, session: Session, client_id: str, payment_in: PaymentCreate, provider_key: str | None = None
) -> Payment:
    """Charges through the provider, then records the payment (raises ProviderError)."""
    charge_id = provider.charge(
        order_id=payment_in.order_id,
        amount_cents=payment_in.amount_cents,
        currency=payment_in.currency,
        key=provider_key,
    )
    payment = Payment.model_validate(
        payment_in, update={"client_id": client_id, "provider_charge_id": charge_id}
    )
    session.add(payment)
    session.commit()
    session.refresh(payment)
    return payment
