from typing import Annotated

from fastapi import Depends, Header
from sqlmodel import Session

from app.core.db import get_session

SessionDep = Annotated[Session, Depends(get_session)]

# Who is asking. Lab 02 is about real authentication; here the API gateway in front of
# the service has already checked the customer and passes their id along.
CustomerId = Annotated[int, Header(alias="X-Customer-Id", ge=1)]
