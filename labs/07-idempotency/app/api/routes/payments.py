from typing import Annotated

from fastapi import APIRouter, Header, status
from fastapi.responses import JSONResponse

from app import crud, idempotency
from app.api.deps import ClientId, RedisDep, SessionDep
from app.models import PaymentCreate, PaymentPublic

router = APIRouter(prefix="/payments", tags=["payments"])

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=255, description="unique per payment"),
]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PaymentPublic)
def create_payment(
    session: SessionDep,
    redis: RedisDep,
    client_id: ClientId,
    payment_in: PaymentCreate,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    fp = idempotency.fingerprint(payment_in.model_dump(mode="json"))
    # TODO: a client that forgets the header gets no protection at all, and isn't told.
    if idempotency_key is not None:
        # TODO: a customer who double-clicked "Pay" was charged twice.
        record = idempotency.lookup(redis, client_id=client_id, key=idempotency_key)
        if record is not None:
            # TODO: a client retrying after a lost answer never learns its payment's id,
            # and a retry with another amount is told "already made" as well.
            return JSONResponse({"detail": "This payment was already made."})

    payment = crud.charge_and_record(session=session, client_id=client_id, payment_in=payment_in)
    body = PaymentPublic.model_validate(payment).model_dump(mode="json")
    if idempotency_key is not None:
        idempotency.remember(
            redis, client_id=client_id, key=idempotency_key, fingerprint=fp, status=201, body=body
        )
    return JSONResponse(body, status_code=status.HTTP_201_CREATED)
