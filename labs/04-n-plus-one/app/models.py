from sqlmodel import Field, Relationship, SQLModel


class Author(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    # A page shows each author's books in a stable order: oldest first.
    books: list["Book"] = Relationship(
        back_populates="author", sa_relationship_kwargs={"order_by": "Book.id"}
    )


class Book(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str
    author_id: int = Field(foreign_key="author.id", index=True)
    author: Author = Relationship(back_populates="books")
    reviews: list["Review"] = Relationship(back_populates="book")


class Review(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    book_id: int = Field(foreign_key="book.id", index=True)
    rating: int = Field(ge=1, le=5)
    book: Book = Relationship(back_populates="reviews")


class Order(SQLModel, table=True):
    __tablename__ = "orders"  # "order" is a reserved word in SQL

    id: int | None = Field(default=None, primary_key=True)
    placed_by: str
    items: list["OrderItem"] = Relationship(sa_relationship_kwargs={"order_by": "OrderItem.id"})


class OrderItem(SQLModel, table=True):
    __tablename__ = "order_item"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    book_id: int = Field(foreign_key="book.id")
    quantity: int = Field(gt=0)
    book: Book = Relationship()


class BookSummary(SQLModel):
    id: int
    title: str
    avg_rating: float | None = Field(description="Mean rating, 2 decimals; null: no reviews")
    review_count: int


class AuthorPublic(SQLModel):
    id: int
    name: str
    books: list[BookSummary]


class AuthorPage(SQLModel):
    items: list[AuthorPublic]
    next_after: int | None = Field(description="Pass as ?after= for the next page")


class OrderItemPublic(SQLModel):
    book_id: int
    title: str
    quantity: int


class OrderPublic(SQLModel):
    id: int
    placed_by: str
    items: list[OrderItemPublic]
