from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, status
from fastapi.responses import JSONResponse

from app import crud, idempotency, provider
from app.api.deps import ClientId, RedisDep, SessionDep
from app.models import PaymentCreate, PaymentPublic

router = APIRouter(prefix="/payments", tags=["payments"])

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=255, description="unique per payment"),
]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentPublic,
    responses={
        400: {"description": "No Idempotency-Key header"},
        409: {"description": "A request with this key is still in progress"},
        422: {"description": "This key was used for a different payment"},
        502: {"description": "The provider did not confirm: retry with the same key"},
    },
)
def create_payment(
    session: SessionDep,
    redis: RedisDep,
    client_id: ClientId,
    payment_in: PaymentCreate,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    if idempotency_key is None:
        # Moving money without a key would make every retry a possible second charge.
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            detail="Payments need an Idempotency-Key header: a unique value per payment, "
            "sent again unchanged on every retry of it.",
        )
    fp = idempotency.fingerprint(payment_in.model_dump(mode="json"))
    record = idempotency.claim(redis, client_id=client_id, key=idempotency_key, fingerprint=fp)
    if record is not None:
        if record.fingerprint != fp:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail="This Idempotency-Key was already used for a different payment.",
            )
        if record.status is None:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                detail="A request with this Idempotency-Key is still in progress: retry shortly.",
            )
        # The same request again: the same answer, and no second charge.
        return JSONResponse(
            record.body, status_code=record.status, headers={"Idempotent-Replayed": "true"}
        )

    try:
        payment = crud.charge_and_record(
            session=session,
            client_id=client_id,
            payment_in=payment_in,
            # Stable across retries, so the provider can tell a retry from a new charge.
            provider_key=f"{client_id}:{idempotency_key}",
        )
    except provider.ProviderError:
        idempotency.release(redis, client_id=client_id, key=idempotency_key)
        raise HTTPException(
            status.HTTP_502_BAD_GATEWAY,
            detail="The payment provider did not confirm the charge. Retry with the same "
            "Idempotency-Key: it will not be charged twice.",
        ) from None
    except BaseException:
        idempotency.release(redis, client_id=client_id, key=idempotency_key)
        raise
    body = PaymentPublic.model_validate(payment).model_dump(mode="json")
    idempotency.complete(
        redis, client_id=client_id, key=idempotency_key, fingerprint=fp, status=201, body=body
    )
    return JSONResponse(body, status_code=status.HTTP_201_CREATED)
