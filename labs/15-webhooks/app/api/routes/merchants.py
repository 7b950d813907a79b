import secrets

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.api.deps import SessionDep
from app.api.errors import problems
from app.models import Merchant

router = APIRouter(tags=["merchants"])


class MerchantIn(BaseModel):
    # Printable text: a NUL would reach PostgreSQL, which refuses it (a 500, not a 422).
    name: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")


class MerchantOut(BaseModel):
    id: int
    name: str
    api_key: str  # shown once: send it as Authorization: Bearer <api_key>


@router.post("/merchants", status_code=201, response_model=MerchantOut, responses=problems(422))
def create_merchant(body: MerchantIn, session: SessionDep) -> Merchant:
    merchant = Merchant(name=body.name, api_key=f"mk_{secrets.token_urlsafe(24)}")
    session.add(merchant)
    session.commit()
    session.refresh(merchant)
    return merchant
