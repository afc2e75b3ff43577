package zoom_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/zoomworker/zoom-worker/zoom"
)

func ExampleClassify() {
	err := fmt.Errorf("create meeting for %s: %w", "nobody@example.com", &zoom.APIError{
		Op: "create meeting", StatusCode: 404, Code: 1001, Message: "User does not exist: nobody@example.com.",
	})
	class, _ := zoom.Classify(err)
	fmt.Println(class, zoom.IsNotFound(err))
	fmt.Println(err)
	// Output:
	// permanent true
	// create meeting for nobody@example.com: zoom: create meeting: 404 (code 1001): User does not exist: nobody@example.com.
}

func ExampleClient_CreateMeeting() {
	// A stand-in for Zoom that answers every request with one meeting.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"id":85746065432,"topic":"Demo Meeting 1","join_url":"https://zoom.us/j/85746065432"}`)
	}))
	defer srv.Close()

	c, err := zoom.NewClient(zoom.Options{BaseURL: srv.URL + "/v2", Tokens: zoom.StaticToken("token")})
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := c.CreateMeeting(context.Background(), "james@bond.com", map[string]any{"topic": "Demo Meeting 1", "type": 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.ID, m.Topic, m.JoinURL)
	// Output:
	// 85746065432 Demo Meeting 1 https://zoom.us/j/85746065432
}
