from typing import Annotated

from fastapi import Depends, Path
from sqlmodel import Session

from app.core.db import get_session
from app.models import PG_INT_MAX

SessionDep = Annotated[Session, Depends(get_session)]

# Ids in paths fit PostgreSQL's `integer`: a larger one is a 422, never the database's error.
BookId = Annotated[int, Path(gt=0, le=PG_INT_MAX)]
OrderId = Annotated[int, Path(gt=0, le=PG_INT_MAX)]
