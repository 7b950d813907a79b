from typing import Literal

from fastapi import APIRouter, HTTPException
from pydantic import AnyHttpUrl, BaseModel, Field

from app.api.deps import MerchantDep, SessionDep
from app.api.errors import problems
from app.models import WebhookEndpoint
from app.signing import new_secret

router = APIRouter(tags=["webhook endpoints"])

EventType = Literal["order.created", "order.paid", "order.shipped"]


class EndpointIn(BaseModel):
    url: AnyHttpUrl
    events: list[EventType] = Field(min_length=1, max_length=3)


class EndpointOut(BaseModel):
    id: int
    url: str
    events: list[str]
    status: str  # enabled or disabled
    disabled_reason: str | None


class EndpointWithSecret(EndpointOut):
    secret: str  # whsec_...: verify our signatures with it


class SecretOut(BaseModel):
    secret: str


def _out(endpoint: WebhookEndpoint, model: type[EndpointOut] = EndpointOut) -> EndpointOut:
    return model(**endpoint.model_dump(exclude={"events"}), events=endpoint.event_types)


def _own(session: SessionDep, merchant: MerchantDep, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.merchant_id != merchant.id:
        raise HTTPException(404, f"You have no webhook endpoint {endpoint_id}.")
    return endpoint


@router.post("/webhook-endpoints", status_code=201, response_model=EndpointWithSecret,
             responses=problems(401, 422))  # fmt: skip
def create_endpoint(body: EndpointIn, session: SessionDep, merchant: MerchantDep) -> EndpointOut:
    endpoint = WebhookEndpoint(merchant_id=merchant.id, url=str(body.url),
                               events=",".join(dict.fromkeys(body.events)), secret=new_secret())  # fmt: skip
    session.add(endpoint)
    session.commit()
    session.refresh(endpoint)
    return _out(endpoint, EndpointWithSecret)


@router.get("/webhook-endpoints/{endpoint_id}", response_model=EndpointOut,
            responses=problems(401, 404, 422))  # fmt: skip
def get_endpoint(endpoint_id: int, session: SessionDep, merchant: MerchantDep) -> EndpointOut:
    return _out(_own(session, merchant, endpoint_id))


@router.post("/webhook-endpoints/{endpoint_id}/rotate-secret", response_model=SecretOut,
             responses=problems(401, 404, 422))  # fmt: skip
def rotate_secret(endpoint_id: int, session: SessionDep, merchant: MerchantDep) -> SecretOut:
    """A new signing secret for the endpoint (when the old one may have leaked)."""
    endpoint = _own(session, merchant, endpoint_id)
    # TODO: right after a rotation, merchants' receivers reject our deliveries until they
    # have deployed the new secret.
    endpoint.secret = new_secret()
    session.add(endpoint)
    session.commit()
    return SecretOut(secret=endpoint.secret)
