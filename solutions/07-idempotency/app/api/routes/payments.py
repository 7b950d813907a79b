from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, status
from fastapi.responses import JSONResponse

from app import crud, idempotency, provider
from app.api.deps import ClientId, RedisDep, SessionDep
from app.api.errors import problems
from app.models import PaymentCreate, PaymentPublic

router = APIRouter(prefix="/payments", tags=["payments"])

# Read as optional, so that a missing key gets our 400 (problem+json), not the 422 of a
# failed validation; documented below as what it is: required.
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", max_length=255, include_in_schema=False)
]
IDEMPOTENCY_KEY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "A unique value per payment, sent again unchanged on every retry of it.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentPublic,
    # 400: no Idempotency-Key; 409: a request with this key is still in progress; 422:
    # this key was used for another payment; 502: the provider did not confirm (retry).
    responses=problems(400, 401, 409, 502),
    openapi_extra={"parameters": [IDEMPOTENCY_KEY_PARAMETER]},
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
