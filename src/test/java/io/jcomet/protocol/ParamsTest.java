package io.jcomet.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class ParamsTest {
    @ParameterizedTest
    @ValueSource(strings = {"icomet_cb", "icomet_cb_12", "$", "_x", "app.handlers.onMsg", "jQuery1234_5678"})
    void callbacksThatAreIdentifierPathsAreAccepted(String cb) {
        assertEquals(cb, Params.callback(cb));
    }

    @ParameterizedTest
    @ValueSource(strings = {"alert(1)", "a b", "1abc", "a..b", "a.", ".a", "a-b", "a;b", "<script>", "a[0]", "é"})
    void callbacksThatAreNotIdentifierPathsAreRefused(String cb) {
        assertThrows(BadRequestException.class, () -> Params.callback(cb));
    }

    @Test
    void callbacksThatReachBuiltInsOrPrototypesAreRefused() {
        for (String cb : new String[] {"location.assign", "__proto__.constructor", "a.__proto__", "app.constructor",
                "x.prototype.y", "window.app", "eval", "Function", "document.write", "open", "a.b.c.d.e", "self.postMessage"}) {
            assertThrows(BadRequestException.class, () -> Params.callback(cb), cb);
        }
        assertEquals("app.chat.rooms.onMsg", Params.callback("app.chat.rooms.onMsg"));
    }

    @org.junit.jupiter.api.Test
    void callbackLengthIsBounded() {
        assertEquals(64, Params.callback("a".repeat(64)).length());
        assertThrows(BadRequestException.class, () -> Params.callback("a".repeat(65)));
        assertNull(Params.callback(""));
        assertNull(Params.callback(null));
    }

    @Test
    void channelNamesAreAnythingWithoutControlCharactersBoundedInBytes() {
        for (String ok : new String[] {"room-1_a.b:c@d", "聊天室", "aGk+/w==", "a/b", "a b", "a\"b<", "😀"}) {
            assertEquals(ok, Params.cname(ok, 64));
        }
        assertThrows(BadRequestException.class, () -> Params.cname("", 64));
        assertThrows(BadRequestException.class, () -> Params.cname(null, 64));
        assertEquals("x".repeat(64), Params.cname("x".repeat(64), 64));
        assertThrows(BadRequestException.class, () -> Params.cname("x".repeat(65), 64));
        assertEquals("中".repeat(21), Params.cname("中".repeat(21), 64), "63 bytes");
        assertThrows(BadRequestException.class, () -> Params.cname("中".repeat(22), 64), "66 bytes, 22 characters");
        assertThrows(BadRequestException.class, () -> Params.cname("😀".repeat(17), 64), "68 bytes");
        for (String bad : new String[] {"a\nb", "a\u0000", "a\tb", "a\u007f", "a\u0085", "a\u2028", "a\ud800"}) {
            assertThrows(BadRequestException.class, () -> Params.cname(bad, 64), bad);
        }
    }

    @Test
    void expiresThatIsNotAPositiveIntegerIsTheDefault() {
        assertEquals(60, Params.positiveOrDefault("60", 30));
        for (String v : new String[] {null, "", "0", "-5", "abc", "1.5", "99999999999"}) {
            assertEquals(30, Params.positiveOrDefault(v, 30), String.valueOf(v));
        }
    }

    @Test
    void integersAcceptUnsignedSeqsAndRefuseGarbage() {
        assertEquals(0, Params.integer("seq", null, 0));
        assertEquals(5, Params.integer("seq", "", 5));
        assertEquals(42, Params.integer("seq", "42", 0));
        assertEquals(-1, Params.integer("seq", "4294967295", 0)); // 2^32-1 wraps to -1: same 32 bits
        assertThrows(BadRequestException.class, () -> Params.integer("seq", "abc", 0));
        assertThrows(BadRequestException.class, () -> Params.integer("seq", "1.5", 0));
        assertThrows(BadRequestException.class, () -> Params.integer("seq", "4294967296", 0));
    }
}
