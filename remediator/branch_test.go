package remediator_test

import (
	"fmt"

	"github.com/pushvault/pushvault/remediator"
)

func ExampleFixBranch() {
	fmt.Println(remediator.FixBranch("0123456789abcdef"))
	fmt.Println(remediator.IsFixBranch("pushvault/fix-0123456"), remediator.IsFixBranch("main"))
	// Output:
	// pushvault/fix-0123456
	// true false
}
