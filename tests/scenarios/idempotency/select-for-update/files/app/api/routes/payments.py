from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, status
from fastapi.responses import JSONResponse

from app import crud, idempotency, provider
from app.api.deps import ClientId, SessionDep
from app.models import PaymentCreate, PaymentPublic

router = APIRouter(prefix="/payments", tags=["payments"])

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=255, description="unique per payment"),
]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PaymentPublic)
def create_payment(
    session: SessionDep,
    client_id: ClientId,
    payment_in: PaymentCreate,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    if idempotency_key is None:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, detail="Payments need an Idempotency-Key header."
        )

    def pay() -> tuple[int, dict]:
        payment = crud.charge_and_record(
            session=session,
            client_id=client_id,
            payment_in=payment_in,
            provider_key=f"{client_id}:{idempotency_key}",
        )
        return 201, PaymentPublic.model_validate(payment).model_dump(mode="json")

    fp = idempotency.fingerprint(payment_in.model_dump(mode="json"))
    try:
        code, body, replayed = idempotency.once(
            client_id=client_id, key=idempotency_key, fingerprint=fp, work=pay
        )
    except idempotency.KeyReused:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail="This Idempotency-Key was already used for a different payment.",
        ) from None
    except provider.ProviderError:
        raise HTTPException(
            status.HTTP_502_BAD_GATEWAY,
            detail="The payment provider did not confirm the charge: retry with the same key.",
        ) from None
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSONResponse(body, status_code=code, headers=headers)
