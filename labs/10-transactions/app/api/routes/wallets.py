from fastapi import APIRouter, Path, status

from app import services
from app.api.deps import SessionDep
from app.api.errors import problems
from app.models import (
    PG_INT_MAX,
    LedgerLine,
    Statement,
    TransferCreate,
    TransferPublic,
    Wallet,
    WalletPublic,
)

router = APIRouter(prefix="/wallets", tags=["wallets"])

WalletId = Path(ge=1, le=PG_INT_MAX)


@router.post(
    "/transfers",
    status_code=status.HTTP_201_CREATED,
    response_model=TransferPublic,
    responses=problems(404, 409, 503),
)
def transfer(session: SessionDep, transfer_in: TransferCreate) -> TransferPublic:
    record = services.transfer(session=session, transfer_in=transfer_in)
    return TransferPublic.model_validate(record, from_attributes=True)


@router.get("/{wallet_id}", response_model=WalletPublic, responses=problems(404))
def get_wallet(session: SessionDep, wallet_id: int = WalletId) -> Wallet:
    return services._wallet(session, wallet_id)


@router.get("/{wallet_id}/statement", response_model=Statement, responses=problems(404))
def get_statement(session: SessionDep, wallet_id: int = WalletId) -> Statement:
    wallet, entries = services.statement(session=session, wallet_id=wallet_id)
    lines = [LedgerLine.model_validate(e, from_attributes=True) for e in entries]
    return Statement(
        wallet_id=wallet.id,
        balance_cents=wallet.balance_cents,
        entries=lines,
        entries_total_cents=sum(line.amount_cents for line in lines),
    )
