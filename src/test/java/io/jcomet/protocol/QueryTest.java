package io.jcomet.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class QueryTest {
    @Test
    void readsDecodedValuesLikeGetParameter() {
        String q = "cb=icomet_cb_0&cname=room%201&seq=5&noop=0&token=&_=1700000000000&seq=9&x+y=a+b%E4%B8%AD";
        assertEquals("icomet_cb_0", Query.get(q, "cb"));
        assertEquals("room 1", Query.get(q, "cname"));
        assertEquals("5", Query.get(q, "seq"), "first occurrence wins");
        assertEquals("", Query.get(q, "token"));
        assertNull(Query.get(q, "epoch"));
        assertNull(Query.get(q, "seqx"));
        assertNull(Query.get(null, "seq"));
        assertEquals("", Query.get("flag", "flag"));
        assertEquals("a b中", Query.get("k=a+b%E4%B8%AD", "k"));
    }

    @Test
    void malformedEscapesAreBadRequests() {
        assertThrows(BadRequestException.class, () -> Query.get("cname=%zz", "cname"));
        assertThrows(BadRequestException.class, () -> Query.get("cname=ab%2", "cname"));
    }

    @Test
    void invalidUtf8IsABadRequestNotReplacementCharacters() {
        assertThrows(BadRequestException.class, () -> Query.get("content=%C3%28", "content"), "a broken two-byte sequence");
        assertThrows(BadRequestException.class, () -> Query.get("content=%FF", "content"));
        assertThrows(BadRequestException.class, () -> Query.get("content=%ED%A0%80", "content"), "an encoded surrogate");
        assertEquals("é", Query.get("content=%C3%A9", "content"));
    }
}
