"""The three providers the shop depends on, each behind a small client module:
shipping (delivery quotes for the book page), payments (charges at checkout) and the
warehouse (picking an order). The checker runs stand-ins for all three."""
