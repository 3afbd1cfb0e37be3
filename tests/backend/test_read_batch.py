"""Read coalescing (backend/platform/chain/read_batch.py) against the real governor on Anvil: reads that wait together go to the
node as one eth_call, each request gets its own values, a read that reverts fails only its own request, and a node
that cannot be reached fails each waiting request with its own error."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from brownie import accounts
from requests.exceptions import ConnectionError as RequestsConnectionError
from web3.exceptions import ContractLogicError

from backend.platform.chain import read_batch, reads
from backend.platform.chain.contracts import abi
from backend.platform.chain.node import make_web3
from tools.devstack.processes import free_port

KEY_NONCE = "nonces(address,uint192)"  # a keyed nonce reads key << 64 | sequence: a value of the request's own


@pytest.fixture(scope="module")
def governor(suite):
    w3 = make_web3("http://127.0.0.1:8546", 10)
    return w3.eth.contract(address=suite.governor.address, abi=abi("KyosoGovernor"))


@pytest.fixture
def batcher():
    batcher = read_batch.ReadBatcher()
    yield batcher
    batcher.stop()


@pytest.fixture
def held_calls(monkeypatch):
    """Every eth_call the batcher makes, by the number of reads in it; the first call waits until `release` is set,
    so that the requests sent meanwhile queue up behind it, as they do in a vote burst."""
    calls, release, real = [], threading.Event(), reads.read_many

    def read_many(contract, batch):
        calls.append(len(batch))
        if len(calls) == 1:
            release.wait(10)
        return real(contract, batch)

    monkeypatch.setattr(read_batch.reads, "read_many", read_many)
    return calls, release


def nonce_read(key: int) -> list:
    return [(KEY_NONCE, (accounts[0].address, key), "uint256"), ("clock()", (), "uint48")]


def wait_held(calls: list) -> None:
    """Until the batcher is inside its first (held) call: what is submitted from now on queues behind it."""
    deadline = time.monotonic() + 10
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(calls) == 1


def wait_queued(batcher, count: int) -> None:
    deadline = time.monotonic() + 10
    while batcher._queue.qsize() < count and time.monotonic() < deadline:
        time.sleep(0.01)
    assert batcher._queue.qsize() == count


def test_reads_waiting_together_are_one_call_and_each_gets_its_own_values(governor, batcher, held_calls):
    calls, release = held_calls
    with ThreadPoolExecutor(21) as pool:
        first = pool.submit(batcher.read_many, governor, nonce_read(1000))
        wait_held(calls)
        waiting = [pool.submit(batcher.read_many, governor, nonce_read(key)) for key in range(1, 21)]
        wait_queued(batcher, 20)
        release.set()
        assert first.result(10)[0] == 1000 << 64
        values = [future.result(10) for future in waiting]
    assert calls == [2, 40]  # the first request alone, then the twenty that waited, in one eth_call
    assert [value[0] for value in values] == [key << 64 for key in range(1, 21)]
    assert len({value[1] for value in values}) == 1  # one block for all of them


def test_a_read_that_reverts_fails_only_its_own_request(governor, batcher, held_calls):
    calls, release = held_calls
    future_timepoint = reads.read(governor, "clock()", returns="uint48") + 10_000
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(batcher.read_many, governor, nonce_read(7))
        wait_held(calls)
        before = pool.submit(batcher.read_many, governor, nonce_read(8))
        reverting = pool.submit(batcher.read_many, governor,
                                [("getVotes(address,uint256)", (accounts[0].address, future_timepoint), "uint256")])
        after = pool.submit(batcher.read_many, governor, nonce_read(9))
        wait_queued(batcher, 3)
        release.set()
        assert first.result(10)[0] == 7 << 64
        with pytest.raises(ContractLogicError):  # ERC5805FutureLookup: voting power of a time still to come
            reverting.result(10)
        assert before.result(10)[0] == 8 << 64
        assert after.result(10)[0] == 9 << 64


def test_an_unreachable_node_fails_each_waiting_request_with_its_own_error(suite, batcher, held_calls):
    calls, release = held_calls
    dead = make_web3(f"http://127.0.0.1:{free_port()}", 2).eth.contract(address=suite.governor.address,
                                                                       abi=abi("KyosoGovernor"))
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(batcher.read_many, dead, nonce_read(0))]
        wait_held(calls)
        futures += [pool.submit(batcher.read_many, dead, nonce_read(key)) for key in range(1, 4)]
        wait_queued(batcher, 3)
        release.set()
        errors = []
        for future in futures:
            with pytest.raises(RequestsConnectionError) as raised:
                future.result(10)
            errors.append(raised.value)
    assert calls == [2, 6]
    assert len({id(error) for error in errors[1:]}) == 3  # raised in three threads: three instances
