import { strict as assert } from "assert";
import { describe, it } from "node:test";
import { ServerMessages } from "../../src/serverMessages";

describe("ServerMessages", () => {
    it("shows a warning or information once per window, however often servers repeat it", () => {
        const messages = new ServerMessages();
        assert.equal(messages.shouldShow(2, "pyproject.toml replaces trainlint.ignore"), true);
        assert.equal(messages.shouldShow(2, "pyproject.toml replaces trainlint.ignore"), false);
        assert.equal(messages.shouldShow(3, "pyproject.toml replaces trainlint.ignore"), false);
        assert.equal(messages.shouldShow(2, "trainlint.toml replaces trainlint.ignore"), true);
        assert.equal(messages.shouldShow(3, "something else"), true);
    });

    it("shows every error", () => {
        const messages = new ServerMessages();
        assert.equal(messages.shouldShow(1, "configuration error"), true);
        assert.equal(messages.shouldShow(1, "configuration error"), true);
    });
});
