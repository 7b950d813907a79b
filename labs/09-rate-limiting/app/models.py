from sqlmodel import Field, SQLModel


class BookPublic(SQLModel):
    id: int
    title: str
    author: str
    year: int


class Book(BookPublic, table=True):
    id: int | None = Field(default=None, primary_key=True)
    blurb: str = ""


class Partner(SQLModel, table=True):
    # A partner's key is a secret we compare, never show: no API answers with it.
    id: int | None = Field(default=None, primary_key=True)
    name: str
    api_key: str = Field(unique=True)


class SearchResults(SQLModel):
    query: str
    count: int
    results: list[BookPublic]
