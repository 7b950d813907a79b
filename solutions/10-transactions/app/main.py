"""Checkout without overselling: the service learners repair (a skeleton: replace it with the lab's own)."""

from fastapi import FastAPI, status

app = FastAPI(title="Checkout without overselling")


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/hello", status_code=status.HTTP_200_OK)
def hello() -> dict[str, str]:
    return {"message": "Hello!"}
