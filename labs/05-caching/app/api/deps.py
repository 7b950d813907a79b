from typing import Annotated

from fastapi import Depends, Header, Path
from sqlmodel import Session

from app.core.db import get_session
from app.models import PG_INT_MAX

SessionDep = Annotated[Session, Depends(get_session)]

# Who is asking. Lab 02 is about real authentication; here the API gateway in front of
# the service has already checked the customer and passes their id along.
CustomerId = Annotated[int, Header(alias="X-Customer-Id", ge=1, le=PG_INT_MAX)]

# Ids are PostgreSQL integers: a larger number names no book (and would not fit a query).
BookId = Annotated[int, Path(ge=1, le=PG_INT_MAX)]
